namespace Licenzy.Domain.Subjects;

/// <summary>The caller's name for a customer: 1 to 256 of <c>A-Z a-z 0-9 _ - . : @ |</c>.</summary>
public static class SubjectRef
{
    public const int MaxLength = 256;

    public static bool IsValid(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength) return false;
        foreach (var c in value)
        {
            if (!IsAllowed(c)) return false;
        }
        return true;
    }

    private static bool IsAllowed(char c) =>
        c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9')
            or '_' or '-' or '.' or ':' or '@' or '|';
}

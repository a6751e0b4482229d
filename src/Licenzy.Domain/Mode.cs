namespace Licenzy.Domain;

/// <summary>Stripe's two worlds. Nothing written in one is visible in the other.</summary>
public enum Mode { Test, Live }

public static class Modes
{
    public static bool TryParse(string? value, out Mode mode)
    {
        switch (value)
        {
            case "test": mode = Mode.Test; return true;
            case "live": mode = Mode.Live; return true;
            default: mode = default; return false;
        }
    }

    public static string ToWire(this Mode mode) => mode == Mode.Live ? "live" : "test";
}

using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>How the embedded dispatcher delivers outbox messages (section <c>Licenzy:Outbox</c>).</summary>
public sealed class OutboxOptions
{
    public const string SectionName = "Licenzy:Outbox";

    /// <summary>
    /// How long a claimed message belongs to one dispatcher that still runs (one that hangs). If
    /// that process dies, another delivers the message at once (<see cref="LeaseOwners"/>). Keep it
    /// well above the slowest handler.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Deliveries before a message that keeps failing is dead-lettered.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Messages delivered at the same time by one process.</summary>
    public int MaxConcurrentDeliveries { get; set; } = 32;

    /// <summary>How often to look for messages written by other processes on the same file.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}

internal sealed class OutboxOptionsValidator : IValidateOptions<OutboxOptions>
{
    public ValidateOptionsResult Validate(string? name, OutboxOptions options)
    {
        var failures = new List<string>();
        if (options.LeaseDuration <= TimeSpan.Zero)
            failures.Add($"{OutboxOptions.SectionName}:LeaseDuration is {options.LeaseDuration}; it must be a positive time span.");
        if (options.MaxAttempts < 1)
            failures.Add($"{OutboxOptions.SectionName}:MaxAttempts is {options.MaxAttempts}; it must be at least 1.");
        if (options.MaxConcurrentDeliveries < 1)
            failures.Add($"{OutboxOptions.SectionName}:MaxConcurrentDeliveries is {options.MaxConcurrentDeliveries}; it must be at least 1.");
        if (options.PollInterval <= TimeSpan.Zero)
            failures.Add($"{OutboxOptions.SectionName}:PollInterval is {options.PollInterval}; it must be a positive time span.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

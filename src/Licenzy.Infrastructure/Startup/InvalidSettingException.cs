namespace Licenzy.Infrastructure.Startup;

/// <summary>
/// A setting that Licenzy's own checks refuse at start. The message is the whole report: it names
/// the key and what is allowed, and <see cref="AppStart"/> prints it as it is, without a stack trace.
/// </summary>
public sealed class InvalidSettingException(string message) : Exception(message);

using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Licenzy.Testing;

/// <summary>
/// Runs a script of a test project's node folder with JSON on standard input and gives back what
/// it printed: how tests ask independent implementations (the stripe and standardwebhooks npm
/// packages) for their verdict. A missing node fails the test with <paramref name="why"/>.
/// </summary>
public static class NodeScript
{
    public static async Task<string> RunAsync(string directory, string script, string input, string why)
    {
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { Path.Combine(directory, script) },
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            StandardOutputEncoding = Encoding.UTF8,
        };

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"Node.js 20+ must be on PATH: {why}", e);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();

            // A guard against a hung process, not a timing assertion.
            using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                await process.WaitForExitAsync(guard.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"node {script} did not finish.");
            }

            if (process.ExitCode != 0) throw new InvalidOperationException($"node {script} exited with {process.ExitCode}: {await stderr}");
            return await stdout;
        }
    }
}

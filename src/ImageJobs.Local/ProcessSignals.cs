using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ImageJobs.Local;

/// <summary>POSIX signals for processes this host started, and its own parent's id (.NET offers SIGKILL only).</summary>
internal static class ProcessSignals
{
    private const int SigTerm = 15;

    /// <summary>
    /// Asks <paramref name="process"/> to stop as Ctrl+C would (SIGTERM), waits up to <paramref name="grace"/>, then kills
    /// it and its children. On Windows it is killed at once. Returns whether it stopped within the grace period.
    /// </summary>
    public static async Task<bool> StopAsync(Process process, TimeSpan grace)
    {
        ArgumentNullException.ThrowIfNull(process);
        try
        {
            if (process.HasExited)
            {
                return true;
            }

            if (!OperatingSystem.IsWindows() && Kill(process.Id, SigTerm) == 0)
            {
                using var timeout = new CancellationTokenSource(grace);
                try
                {
                    await process.WaitForExitAsync(timeout.Token);
                    return true;
                }
                catch (OperationCanceledException)
                {
                    // Still running: killed below.
                }
            }

            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            return false;
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
            return true;
        }
    }

    /// <summary>This process's parent process id, on Linux and macOS; <see langword="null"/> elsewhere.</summary>
    public static int? ParentProcessId() => OperatingSystem.IsWindows() ? null : GetParentProcessId();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "getppid")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetParentProcessId();
}

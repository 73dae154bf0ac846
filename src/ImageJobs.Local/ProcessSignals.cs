using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ImageJobs.Local;

/// <summary>
/// POSIX signals: the ones that stop this host, the ones it sends to processes it started (.NET offers SIGKILL only),
/// and its own parent's id.
/// </summary>
internal static class ProcessSignals
{
    private const int SigInt = 2;
    private const int SigTerm = 15;

    // SIG_DFL and SIG_IGN, the first field of struct sigaction (its handler) on Linux and macOS.
    private const nint SigDfl = 0;
    private const nint SigIgn = 1;

    // Larger than struct sigaction on Linux (152 bytes with glibc on x64 and arm64) and macOS: copied whole, never read
    // past the handler.
    private const int SigactionBufferSize = 512;

    /// <summary>
    /// Until disposed, SIGINT (Ctrl+C, <c>kill -INT</c>) and SIGTERM cancel <paramref name="stop"/> instead of ending the
    /// process, so the host stops in order (the app, the task hub, then Azurite) and exits 0.
    /// </summary>
    public static IDisposable CancelOnStopSignals(CancellationTokenSource stop)
    {
        ArgumentNullException.ThrowIfNull(stop);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        var registrations = new Registrations([PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop)]);
        if (!OperatingSystem.IsWindows())
        {
            HandleIgnoredSigInt();
        }

        return registrations;
    }

    /// <summary>
    /// A non-interactive shell starts a background job (<c>serve &amp;</c>) with SIGINT ignored, and .NET leaves a signal
    /// that was ignored at its start ignored, registrations or not, so <c>kill -INT</c> did nothing. SIGINT then gets the
    /// handler .NET installed for SIGTERM (registered first): it hands any signal to that signal's registrations.
    /// </summary>
    private static void HandleIgnoredSigInt()
    {
        var interrupt = new byte[SigactionBufferSize];
        var terminate = new byte[SigactionBufferSize];
        if (Sigaction(SigInt, null, interrupt) == 0 && MemoryMarshal.Read<nint>(interrupt) == SigIgn
            && Sigaction(SigTerm, null, terminate) == 0 && MemoryMarshal.Read<nint>(terminate) is not (SigDfl or SigIgn))
        {
            _ = Sigaction(SigInt, terminate, null);
        }
    }

    /// <summary>
    /// Asks <paramref name="process"/> to stop as Ctrl+C would (SIGTERM), waits up to <paramref name="grace"/> (or until
    /// <paramref name="doneWith"/>, when given, says the process has nothing left to finish), then kills it and its
    /// children. On Windows it is killed at once. Returns whether it stopped by itself.
    /// </summary>
    public static async Task<bool> StopAsync(Process process, TimeSpan grace, Task? doneWith = null)
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
                var exited = process.WaitForExitAsync(CancellationToken.None);
                await Task.WhenAny(exited, doneWith ?? exited, Task.Delay(grace));
                if (process.HasExited)
                {
                    return true;
                }
            }

            return !await KillAsync(process);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
            return true;
        }
    }

    /// <summary>Kills <paramref name="process"/> and its children at once; returns whether it was still running.</summary>
    public static async Task<bool> KillAsync(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        try
        {
            if (process.HasExited)
            {
                return false;
            }

            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            return true;
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // Already gone, or not ours to wait for.
            return false;
        }
    }

    /// <summary>This process's parent process id, on Linux and macOS; <see langword="null"/> elsewhere.</summary>
    public static int? ParentProcessId() => OperatingSystem.IsWindows() ? null : GetParentProcessId();

    private sealed class Registrations(PosixSignalRegistration[] registrations) : IDisposable
    {
        public void Dispose()
        {
            foreach (var registration in registrations)
            {
                registration.Dispose();
            }
        }
    }

    // POSIX kill(2): .NET's Process.Kill sends only SIGKILL.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "sigaction", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Sigaction(int signal, byte[]? action, byte[]? previous);

    [DllImport("libc", EntryPoint = "getppid")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetParentProcessId();
}

namespace ImageJobs.DashScope.Emulator;

/// <summary>What an emulator with a <see cref="DashScopeEmulatorOptions.DataFolder"/> read back when it started.</summary>
/// <param name="Folder">The data folder's full path.</param>
/// <param name="Tasks">Tasks read back (each answers GET, list and cancel as before the restart).</param>
/// <param name="Uploads">Temporary uploads read back.</param>
/// <param name="Expired">Tasks and uploads past their lifetime: not read back, and their files removed.</param>
/// <param name="Skipped">
/// Files that did not read back (torn by a power cut, or edited), each as <c>{path}: {reason}</c>; each was also logged
/// as a warning, and one that does not parse was renamed <c>*.corrupt</c>.
/// </param>
public sealed record EmulatorDataSummary(string Folder, int Tasks, int Uploads, int Expired, IReadOnlyList<string> Skipped);

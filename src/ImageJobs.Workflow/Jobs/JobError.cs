namespace ImageJobs.Workflow.Jobs;

/// <summary>An error with the provider's (or ImageJobs') code and message.</summary>
/// <param name="Code">A stable code, e.g. <c>InvalidParameter</c>, <c>DataInspectionFailed</c>, <c>ResultUrlExpired</c>, <c>Timeout</c>.</param>
/// <param name="Message">The message.</param>
public sealed record JobError(string Code, string Message);

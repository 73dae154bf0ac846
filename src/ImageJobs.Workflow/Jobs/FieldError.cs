namespace ImageJobs.Workflow.Jobs;

/// <summary>A problem with one field of a job, named by its JSON path (<c>input.prompt</c>, <c>notify.webhookUrl</c>).</summary>
/// <param name="Field">The JSON path.</param>
/// <param name="Message">What is wrong and what is allowed.</param>
public sealed record FieldError(string Field, string Message);

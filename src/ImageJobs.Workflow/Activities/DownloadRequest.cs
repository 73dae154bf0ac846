using ImageJobs.Workflow.Jobs;

namespace ImageJobs.Workflow.Activities;

/// <summary>One image to copy out of the provider's storage.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Model">The model (blob metadata).</param>
/// <param name="Output">Where the job's images go.</param>
/// <param name="TaskId">The provider's task id.</param>
/// <param name="Index">The image's index in the results.</param>
/// <param name="Result">The provider's result entry.</param>
/// <param name="Seed">The seed the image was made with, when the job set one (image i uses seed + i).</param>
public sealed record DownloadRequest(string JobId, string Model, JobOutput Output, string TaskId, int Index, TaskResultItem Result, long? Seed);

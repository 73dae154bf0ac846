using ImageJobs.Workflow.Jobs;

namespace ImageJobs.Workflow.Delivery;

/// <summary>A completion to deliver on one channel.</summary>
/// <param name="Job">The job (its notify settings).</param>
/// <param name="Event">The CloudEvent to deliver.</param>
public sealed record CompletionDelivery(ImageJob Job, CloudEvent<JobResult> Event);

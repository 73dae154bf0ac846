namespace ImageJobs.Workflow.Durable;

/// <summary>A filter over instances; mirrors <c>Microsoft.DurableTask.Client.OrchestrationQuery</c>.</summary>
public sealed record OrchestrationInstanceQuery
{
    /// <summary>Only instances created at or after this time.</summary>
    public DateTimeOffset? CreatedFrom { get; init; }

    /// <summary>Only instances created at or before this time.</summary>
    public DateTimeOffset? CreatedTo { get; init; }

    /// <summary>Only instances in one of these statuses (all when null or empty).</summary>
    public IReadOnlyCollection<OrchestrationStatus>? Statuses { get; init; }

    /// <summary>Only instances whose id starts with this prefix (ordinal).</summary>
    public string? InstanceIdPrefix { get; init; }

    /// <summary>The page size (default 100).</summary>
    public int PageSize { get; init; } = 100;

    /// <summary>The token returned with the previous page, or <see langword="null"/> for the first page.</summary>
    public string? ContinuationToken { get; init; }

    /// <summary>Whether to include inputs, outputs and custom status.</summary>
    public bool FetchInputsAndOutputs { get; init; }
}

/// <summary>One page of a query.</summary>
/// <param name="Instances">The instances on this page, ordered by instance id.</param>
/// <param name="ContinuationToken">The token for the next page, or <see langword="null"/> on the last page.</param>
public sealed record OrchestrationQueryPage(IReadOnlyList<OrchestrationInstance> Instances, string? ContinuationToken);

/// <summary>Options for scheduling an instance; mirrors <c>StartOrchestrationOptions</c>.</summary>
/// <param name="InstanceId">The instance id (a new GUID when omitted).</param>
/// <param name="StartAt">Do not start before this time.</param>
public sealed record ScheduleOrchestrationOptions(string? InstanceId = null, DateTimeOffset? StartAt = null);

namespace ImageJobs.Workflow.Durable;

/// <summary>
/// An orchestration both hosts can run: the Functions app wraps <c>TaskOrchestrationContext</c> in the port and calls
/// <see cref="RunAsync"/>; the embedded engine replays it from its own history.
/// </summary>
/// <typeparam name="TInput">The input type (a record).</typeparam>
/// <typeparam name="TOutput">The output type (a record).</typeparam>
public interface IOrchestration<TInput, TOutput>
{
    /// <summary>Runs (or replays) the orchestration. Must be deterministic: see <see cref="IOrchestrationContext"/>.</summary>
    /// <param name="context">The orchestration context.</param>
    /// <param name="input">The deserialized input.</param>
    Task<TOutput> RunAsync(IOrchestrationContext context, TInput input);
}

/// <summary>An activity: a small sealed class resolved from DI that does the I/O. Runs at least once per attempt.</summary>
/// <typeparam name="TInput">The input type (a record).</typeparam>
/// <typeparam name="TOutput">The output type (a record).</typeparam>
public interface IActivity<TInput, TOutput>
{
    /// <summary>Runs the activity.</summary>
    /// <param name="input">The deserialized input.</param>
    /// <param name="cancellationToken">Signals that the host is stopping.</param>
    Task<TOutput> RunAsync(TInput input, CancellationToken cancellationToken);
}

using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.Local.Durable.Shims;

/// <summary>
/// The activities <see cref="TaskHubWorker"/> runs: each call gets its own dependency-injection scope, in which the
/// registry builds the activity, and <see cref="DurableTaskShimFactory"/> wraps it. A name the registry does not know
/// fails the call (as the Microsoft.DurableTask worker fails it), rather than being retried forever.
/// </summary>
internal sealed class RegistryActivities(IDurableTaskFactory factory, DurableTaskShimFactory shims, IServiceProvider services)
    : INameVersionObjectManager<TaskActivity>
{
    public void Add(ObjectCreator<TaskActivity> creator) =>
        throw new NotSupportedException("Activities come from the Microsoft.DurableTask registry (AddTasks).");

    public TaskActivity GetObject(string name, string? version) => new ScopedActivity(new TaskName(name), factory, shims, services);

    private sealed class ScopedActivity(TaskName name, IDurableTaskFactory factory, DurableTaskShimFactory shims, IServiceProvider services) : TaskActivity
    {
        public override string Run(TaskContext context, string input) =>
            throw new NotSupportedException("Activities run asynchronously.");

        public override async Task<string> RunAsync(TaskContext context, string input)
        {
            await using var scope = services.CreateAsyncScope();
            if (!factory.TryCreateActivity(name, scope.ServiceProvider, out var activity))
            {
                throw new InvalidOperationException($"No activity named '{name.Name}' is registered with this worker.");
            }

            return await shims.CreateActivity(name, activity).RunAsync(context, input);
        }
    }
}

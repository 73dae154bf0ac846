namespace ImageJobs.Workflow.Api;

/// <summary>
/// The jobs API's routes, written once for both hosts: the Functions app's <c>[HttpTrigger]</c> routes (hence constants),
/// the local host's endpoints, the links of the management payload and the hosts' console text. A route is relative to
/// <see cref="Prefix"/>, which the Functions host puts before every HTTP route and the local host maps the routes under.
/// </summary>
public static class JobsRoutes
{
    /// <summary><c>api</c>: the prefix of every route, the Functions host's default <c>routePrefix</c> (host.json keeps it).</summary>
    public const string Prefix = "api";

    /// <summary><c>jobs</c>: <c>POST</c> starts a job, <c>GET</c> lists jobs.</summary>
    public const string Jobs = "jobs";

    /// <summary><c>jobs/{id}</c>: <c>GET</c> reads a job's status, <c>DELETE</c> purges the job.</summary>
    public const string Job = Jobs + "/{id}";

    /// <summary><c>jobs/{id}/cancel</c>: <c>POST</c> cancels a job.</summary>
    public const string Cancel = Job + "/cancel";

    /// <summary><c>jobs/{id}/events/{name}</c>: <c>POST</c> raises an event to a job.</summary>
    public const string Event = Job + "/events/{name}";

    /// <summary><c>/api/jobs</c>: the jobs API as a path from the host's root, as the console shows it.</summary>
    public const string JobsPath = "/" + Prefix + "/" + Jobs;

    /// <summary>The path, from the host's root, of <paramref name="route"/> for one job: its <c>{id}</c> filled in, escaped.</summary>
    internal static string PathOf(string route, string id) =>
        "/" + Prefix + "/" + route.Replace("{id}", Uri.EscapeDataString(id), StringComparison.Ordinal);
}

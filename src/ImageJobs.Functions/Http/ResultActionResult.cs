using ImageJobs.Workflow.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace ImageJobs.Functions.Http;

/// <summary>
/// Runs a minimal-API <see cref="IResult"/> (what <c>JobsApi</c> returns) as an <see cref="IActionResult"/>: the Functions
/// ASP.NET Core integration executes returned <see cref="IActionResult"/>s against the request's <see cref="HttpContext"/>,
/// and has no such support for <see cref="IResult"/> (Azure/azure-functions-dotnet-worker, FunctionsHttpProxyingMiddleware).
/// </summary>
/// <param name="result">The result to write.</param>
public sealed class ResultActionResult(IResult result) : IActionResult
{
    /// <summary>The wrapped result.</summary>
    public IResult Result => result;

    /// <inheritdoc />
    public Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return result.ExecuteAsync(context.HttpContext);
    }
}

/// <summary>Adapts the jobs API handlers to the Functions HTTP triggers.</summary>
public static class ResultActionResultExtensions
{
    /// <summary>Awaits a handler and wraps its <see cref="IResult"/> in a <see cref="ResultActionResult"/>.</summary>
    /// <param name="result">The handler's task.</param>
    public static async Task<IActionResult> AsActionResult(this Task<IResult> result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new ResultActionResult(await result);
    }
}

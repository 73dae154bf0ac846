using System.Security.Cryptography;
using ImageJobs.Local.Durable;
using ImageJobs.Workflow.Api;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Local;

/// <summary>Function-key auth as Azure Functions does it: the <c>x-functions-key</c> header or the <c>code</c> query parameter.</summary>
public sealed class FunctionKeyFilter(string key) : IEndpointFilter
{
    private readonly byte[] _key = System.Text.Encoding.UTF8.GetBytes(key);

    /// <inheritdoc />
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var request = context.HttpContext.Request;
        var presented = request.Headers["x-functions-key"].FirstOrDefault() ?? request.Query["code"].FirstOrDefault();
        if (presented is null || !CryptographicOperations.FixedTimeEquals(_key, System.Text.Encoding.UTF8.GetBytes(presented)))
        {
            return ValueTask.FromResult<object?>(JobsApi.Problem(401, "Unauthorized", "A valid function key is required: the x-functions-key header or the code query parameter."));
        }

        return next(context);
    }
}

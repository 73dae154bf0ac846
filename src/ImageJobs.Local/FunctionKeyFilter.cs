using System.Security.Cryptography;
using ImageJobs.Workflow.Api;

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

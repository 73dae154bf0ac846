// Mirrors Microsoft.Azure.Functions.Worker.Core (dependency of Microsoft.Azure.Functions.Worker 2.52.0).
// Source: Azure/azure-functions-dotnet-worker, src/DotNetWorker.Core/Context/FunctionContext.cs,
// Context/BindingContext.cs, Context/RetryContext.cs, Context/TraceContext.cs, Definition/FunctionDefinition.cs,
// Context/FunctionContextLoggerExtensions.cs, Context/FunctionContextHttpRequestExtensions.cs.
// Subset: the Features/IInvocationFeatures and binding-metadata members are not mirrored. Declarations only.
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Extensions.Logging;

namespace Microsoft.Azure.Functions.Worker;

public abstract class FunctionContext
{
    public abstract string InvocationId { get; }

    public abstract string FunctionId { get; }

    public abstract TraceContext TraceContext { get; }

    public abstract BindingContext BindingContext { get; }

    public abstract RetryContext RetryContext { get; }

    public abstract IServiceProvider InstanceServices { get; set; }

    public abstract FunctionDefinition FunctionDefinition { get; }

    public abstract IDictionary<object, object> Items { get; set; }

    public virtual CancellationToken CancellationToken { get; } = CancellationToken.None;
}

public abstract class FunctionDefinition
{
    public abstract string PathToAssembly { get; }

    public abstract string EntryPoint { get; }

    public abstract string Id { get; }

    public abstract string Name { get; }
}

public abstract class BindingContext
{
    public abstract IReadOnlyDictionary<string, object?> BindingData { get; }
}

public abstract class RetryContext
{
    public abstract int RetryCount { get; }

    public abstract int MaxRetryCount { get; }
}

public abstract class TraceContext
{
    public abstract string TraceParent { get; }

    public abstract string TraceState { get; }
}

public static class FunctionContextLoggerExtensions
{
    public static ILogger<T> GetLogger<T>(this FunctionContext context) => throw null!;

    public static ILogger GetLogger(this FunctionContext context, string categoryName) => throw null!;
}

public static class FunctionContextHttpRequestExtensions
{
    public static ValueTask<HttpRequestData?> GetHttpRequestDataAsync(this FunctionContext context) => throw null!;

    public static HttpResponseData? GetHttpResponseData(this FunctionContext context) => throw null!;
}

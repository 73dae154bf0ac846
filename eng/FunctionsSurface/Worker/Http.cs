// Mirrors Microsoft.Azure.Functions.Worker.Core (dependency of Microsoft.Azure.Functions.Worker 2.52.0).
// Source: Azure/azure-functions-dotnet-worker, src/DotNetWorker.Core/Http/HttpRequestData.cs, HttpResponseData.cs,
// HttpHeadersCollection.cs. Subset: the cookie members are not mirrored. Declarations only: no behaviour.
using System.Collections.Specialized;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;

namespace Microsoft.Azure.Functions.Worker.Http;

public abstract class HttpRequestData
{
    public HttpRequestData(FunctionContext functionContext) => throw null!;

    public abstract Stream Body { get; }

    public abstract HttpHeadersCollection Headers { get; }

    public abstract Uri Url { get; }

    public abstract IEnumerable<ClaimsIdentity> Identities { get; }

    public abstract string Method { get; }

    public FunctionContext FunctionContext => throw null!;

    public virtual NameValueCollection Query => throw null!;

    public abstract HttpResponseData CreateResponse();
}

public abstract class HttpResponseData
{
    public HttpResponseData(FunctionContext functionContext) => throw null!;

    public abstract HttpStatusCode StatusCode { get; set; }

    public abstract HttpHeadersCollection Headers { get; set; }

    public abstract Stream Body { get; set; }

    public FunctionContext FunctionContext => throw null!;

    public static HttpResponseData CreateResponse(HttpRequestData request) => throw null!;
}

public sealed class HttpHeadersCollection : HttpHeaders
{
    public HttpHeadersCollection() => throw null!;

    public HttpHeadersCollection(IEnumerable<KeyValuePair<string, string>> headers) => throw null!;

    public HttpHeadersCollection(IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers) => throw null!;
}

// Mirrors Microsoft.Azure.Functions.Worker.Extensions.Http.AspNetCore 2.1.1.
// Source: Azure/azure-functions-dotnet-worker, extensions/Worker.Extensions.Http.AspNetCore/src/
// FunctionsApplicationBuilderAspNetCoreExtensions.cs (namespace ...Worker.Builder), FunctionsHostBuilderExtensions.cs
// (namespace Microsoft.Extensions.Hosting), FunctionContext/FunctionContextExtensions.cs. Only the parameterless
// FunctionsApplicationBuilder overload is mirrored: later sources add configure-callback overloads that 2.1.1 may lack.
// Declarations only: no behaviour.
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;

namespace Microsoft.Azure.Functions.Worker.Builder
{
    public static class FunctionsApplicationBuilderAspNetCoreExtensions
    {
        public static FunctionsApplicationBuilder ConfigureFunctionsWebApplication(this FunctionsApplicationBuilder builder)
            => throw null!;
    }
}

namespace Microsoft.Extensions.Hosting
{
    public static class FunctionsHostBuilderExtensions
    {
        public static IHostBuilder ConfigureFunctionsWebApplication(this IHostBuilder builder) => throw null!;

        public static IHostBuilder ConfigureFunctionsWebApplication(
            this IHostBuilder builder, Action<IFunctionsWorkerApplicationBuilder> configureWorker)
            => throw null!;

        public static IHostBuilder ConfigureFunctionsWebApplication(
            this IHostBuilder builder, Action<HostBuilderContext, IFunctionsWorkerApplicationBuilder> configureWorker)
            => throw null!;
    }
}

namespace Microsoft.Azure.Functions.Worker
{
    public static class FunctionContextExtensions
    {
        public static HttpContext? GetHttpContext(this FunctionContext context) => throw null!;
    }
}

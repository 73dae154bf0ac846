// Mirrors Microsoft.Azure.Functions.Worker 2.52.0 (Builder) and Microsoft.Azure.Functions.Worker.Core (builder
// interface, middleware delegate). Source: Azure/azure-functions-dotnet-worker, src/DotNetWorker/Builder/
// FunctionsApplication.cs, FunctionsApplicationBuilder.cs; src/DotNetWorker.Core/IFunctionsWorkerApplicationBuilder.cs;
// src/DotNetWorker.Core/Pipeline/FunctionExecutionDelegate.cs. Declarations only: no behaviour.
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Azure.Functions.Worker.Builder
{
    public class FunctionsApplication
    {
        public static FunctionsApplicationBuilder CreateBuilder(string[] args) => throw null!;
    }

    public class FunctionsApplicationBuilder : IHostApplicationBuilder, IFunctionsWorkerApplicationBuilder
    {
        internal FunctionsApplicationBuilder() => throw null!;

        public IDictionary<object, object> Properties => throw null!;

        IConfigurationManager IHostApplicationBuilder.Configuration => throw null!;

        public ConfigurationManager Configuration => throw null!;

        public IHostEnvironment Environment => throw null!;

        public ILoggingBuilder Logging => throw null!;

        public IMetricsBuilder Metrics => throw null!;

        public IServiceCollection Services => throw null!;

        public IHost Build() => throw null!;

        public void ConfigureContainer<TContainerBuilder>(
            IServiceProviderFactory<TContainerBuilder> factory, Action<TContainerBuilder>? configure = null)
            where TContainerBuilder : notnull
            => throw null!;

        public IFunctionsWorkerApplicationBuilder Use(Func<FunctionExecutionDelegate, FunctionExecutionDelegate> middleware)
            => throw null!;
    }
}

namespace Microsoft.Azure.Functions.Worker
{
    public interface IFunctionsWorkerApplicationBuilder
    {
        IServiceCollection Services { get; }

        IFunctionsWorkerApplicationBuilder Use(Func<FunctionExecutionDelegate, FunctionExecutionDelegate> middleware);
    }
}

namespace Microsoft.Azure.Functions.Worker.Middleware
{
    public delegate Task FunctionExecutionDelegate(FunctionContext context);
}

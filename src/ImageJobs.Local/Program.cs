using System.CommandLine;
using ImageJobs.Local;

// dotnet run --project src/ImageJobs.Local -- serve [--urls http://127.0.0.1:7071] [--instances 3]
// dotnet run --project src/ImageJobs.Local -- generate --model qwen-image-plus --prompt "…" [--image path|url]… [--param k=v]… [--out ./out]
var rootOption = new Option<string?>("--root") { Description = "The folder with host.json and local.settings.json (default: the current folder or the first one above it with host.json)." };

var urls = new Option<string>("--urls") { Description = "Where to listen (with --instances: instance n on this port + n - 1).", DefaultValueFactory = _ => "http://127.0.0.1:7071" };
var instances = new Option<int>("--instances")
{
    Description = "How many cooperating hosts to run on one storage account and one task hub, to watch scale-out on one machine "
        + "(1 to 16, default 1). Storage and DashScope are prepared once; this process is instance 1 and starts instances 2..N "
        + "as child processes on the next ports, each with the jobs API, the queue trigger, the uploads scanner and its own "
        + "partition leases. A child that dies is reported, not restarted: the others take over its jobs when its leases "
        + "expire (about 10-15 s). Ctrl+C stops them all.",
    DefaultValueFactory = _ => 1,
};
var serve = new Command("serve", "Run the app like `func start`: the jobs HTTP API, the image-jobs queue and the uploads container, on the Durable Task Framework's Azure Storage provider.")
{
    urls,
    instances,
    rootOption,
};
serve.SetAction((parse, ct) => ServeCommand.RunAsync(parse.GetValue(urls)!, parse.GetValue(instances), Root(parse), ct));

var model = new Option<string>("--model") { Description = "wanx-v1, wanx2.1-imageedit, wan2.5-i2i-preview, qwen-image or qwen-image-plus.", Required = true };
var prompt = new Option<string?>("--prompt") { Description = "The prompt." };
var negative = new Option<string?>("--negative-prompt") { Description = "The negative prompt." };
var function = new Option<string?>("--function") { Description = "The wanx2.1-imageedit function, e.g. stylization_all." };
var image = new Option<string[]>("--image") { Description = "An input image: a file (uploaded to blob storage) or an http(s) URL. Repeat for several.", AllowMultipleArgumentsPerToken = false };
var param = new Option<string[]>("--param") { Description = "A DashScope parameter as key=value (JSON values allowed), e.g. --param n=1 --param size=\"1328*1328\". Repeat for several." };
var outFolder = new Option<string>("--out") { Description = "Where to save the images (relative to the folder with host.json).", DefaultValueFactory = _ => "out" };
var timeout = new Option<TimeSpan?>("--timeout") { Description = "The job timeout (default 30 minutes), e.g. 00:10:00." };
var generate = new Command("generate", "Run one job through the whole pipeline with everything embedded and save its images.")
{
    model, prompt, negative, function, image, param, outFolder, timeout, rootOption,
};
generate.SetAction((parse, ct) => GenerateCommand.RunAsync(
    new GenerateRequest
    {
        Model = parse.GetValue(model)!,
        Prompt = parse.GetValue(prompt),
        NegativePrompt = parse.GetValue(negative),
        Function = parse.GetValue(function),
        Images = parse.GetValue(image) ?? [],
        Parameters = parse.GetValue(param) ?? [],
        Out = parse.GetValue(outFolder)!,
        Timeout = parse.GetValue(timeout),
    },
    Root(parse),
    Console.Out,
    ct));

var root = new RootCommand("ImageJobs local host: DashScope image jobs on the Durable Task Framework (Azure Storage provider).") { serve, generate };

// Ctrl+C and SIGTERM cancel the command's token and the command shuts down in order (worker, task hub, Azurite); no
// forced exit after System.CommandLine's default 2 s, which would cut that short.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

string Root(ParseResult parse) => parse.GetValue(rootOption) ?? LocalEnvironment.FindRoot(Directory.GetCurrentDirectory());

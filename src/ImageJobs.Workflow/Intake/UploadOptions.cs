namespace ImageJobs.Workflow.Intake;

/// <summary>Settings of the upload trigger (<c>ImageJobs:Uploads</c>).</summary>
public sealed class UploadOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "ImageJobs:Uploads";

    /// <summary>The prompt for uploads whose metadata has none.</summary>
    public string? DefaultPrompt { get; set; }

    /// <summary>The parameters (JSON) for uploads whose metadata has none. Default <c>{"n":1}</c>: one billed image.</summary>
    public string DefaultParameters { get; set; } = """{"n":1}""";
}

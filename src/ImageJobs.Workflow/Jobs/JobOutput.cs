using ImageJobs.Workflow.Storage;

namespace ImageJobs.Workflow.Jobs;

/// <summary>
/// Where result images are written: <c>{Container}/{Prefix}{jobId}/{index}.png</c>, or the extension of the image's real
/// type when it is not a PNG (<see cref="ResultImageStore.NameFor"/>).
/// </summary>
/// <param name="Container">The blob container; default <c>results</c>.</param>
/// <param name="Prefix">A name prefix, possibly empty.</param>
public sealed record JobOutput(string Container, string Prefix)
{
    /// <summary>The blob name of image <paramref name="index"/> of a job, when it is a PNG.</summary>
    public string ImageBlobName(string jobId, int index) => FormattableString.Invariant($"{Prefix}{jobId}/{index}.png");

    /// <summary>The blob name of a job's manifest.</summary>
    public string ManifestBlobName(string jobId) => $"{Prefix}{jobId}/manifest.json";
}

using System.Text.Json.Nodes;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Activities;
using ImageJobs.Workflow.Intake;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Provider;

namespace ImageJobs.Workflow.Tests;

/// <summary>
/// <see cref="DashScopeModelCatalog"/> is the one place that knows each model's image fields: the typed request builders,
/// the validator, the job parser and the intake all agree with it for every model it lists.
/// </summary>
public sealed class ModelCatalogTests
{
    private const string Url = "https://example.com/cat.png";

    public static TheoryData<string> Models() => [.. DashScopeModelCatalog.Profiles.Select(p => p.Model)];

    [Fact]
    public void Models_AllNames_ListTheCatalogInOrder()
    {
        Assert.Equal(DashScopeModelCatalog.Profiles.Select(p => p.Model), DashScopeModels.All);
        Assert.Equal(DashScopeModels.All.Count, DashScopeModels.All.Distinct().Count());
        Assert.All(DashScopeModels.All, m => Assert.Same(DashScopeModelCatalog.Profiles.Single(p => p.Model == m), DashScopeModels.GetProfile(m)));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void TypedRequest_EveryModel_ValidatesAndWritesTheCatalogsImageFields(string model)
    {
        var profile = DashScopeModels.GetProfile(model);
        DashScopeImageRequest typed = profile.Family switch
        {
            DashScopeModelFamily.WanxTextToImage => new WanxTextToImageRequest("a cat") { ReferenceImage = Url, N = 1 },
            DashScopeModelFamily.WanxImageEdit =>
                new WanxImageEditRequest(WanxImageEditFunctions.DescriptionEditWithMask, "a cat", Url) { MaskImageUrl = Url, N = 1 },
            DashScopeModelFamily.WanImageToImage => new WanImageToImageRequest("a cat", [Url]) { N = 1 },
            DashScopeModelFamily.QwenImage => new QwenImageRequest("a cat", model) { N = 1 },
            _ => throw new InvalidOperationException($"A family without a typed request: {profile.Family}."),
        };
        var body = typed.ToJson();
        var input = (JsonObject)body["input"]!;

        // The same body under this model's name: a model added to an existing family validates with that family's request.
        var request = DashScopeImageRequest.FromJson(model, input, body["parameters"] as JsonObject);

        Assert.Empty(request.Validate());
        Assert.Equal(profile.Kind, request.TaskKind);
        var written = input.Select(p => p.Key).Where(k => DashScopeModelCatalog.AllImageFields.Any(f => f.Name == k));
        Assert.Equal(profile.ImageFields.Select(f => f.Name), written);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void WriteImages_EveryModel_ParserFindsEveryImageAndTheJobValidates(string model)
    {
        var profile = DashScopeModels.GetProfile(model);
        var input = new JsonObject { ["prompt"] = "a cat" };
        if (profile.Family == DashScopeModelFamily.WanxImageEdit)
        {
            input["function"] = WanxImageEditFunctions.DescriptionEditWithMask;
        }

        // Blob references: the parser must find every one (it swaps them for a stand-in URL), or validation fails.
        var images = Enumerable.Range(0, profile.MaxInputImages).Select(i => $"blob:inputs/{i}.png").ToList();
        Assert.Equal(images.Count, DashScopeModelCatalog.WriteImages(model, input, images));

        var expectedPaths = profile.ImageFields.SelectMany(f => f.IsArray
            ? Enumerable.Range(0, f.MaxCount).Select(f.ItemPath)
            : [f.Path]);
        Assert.Equal(expectedPaths, ImageJobParser.ImageFields(input).Select(x => x.Path));
        Assert.Equal(images, ImageJobParser.ImageFields(input).Select(x => x.Node.GetValue<string>()));

        var errors = ImageJobParser.TryParse(new JsonObject { ["model"] = model, ["input"] = input.DeepClone() }, "job-1", out var job);
        Assert.Empty(errors);
        Assert.NotNull(job);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Validate_ImageFieldOfAnotherModel_IsRejected(string model)
    {
        var profile = DashScopeModels.GetProfile(model);
        foreach (var foreign in DashScopeModelCatalog.AllImageFields.Except(profile.ImageFields))
        {
            var input = new JsonObject { ["prompt"] = "a cat", [foreign.Name] = foreign.IsArray ? new JsonArray(Url) : Url };
            Assert.Contains(DashScopeRequestValidator.Validate(model, input, null), e => e.Field == foreign.Path);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Validate_RequiredImageMissing_NamesTheCatalogsField(string model)
    {
        var profile = DashScopeModels.GetProfile(model);
        foreach (var field in profile.ImageFields.Where(f => f.Required))
        {
            var input = new JsonObject { ["prompt"] = "a cat" };
            if (profile.Family == DashScopeModelFamily.WanxImageEdit)
            {
                input["function"] = WanxImageEditFunctions.Colorization;
            }

            DashScopeModelCatalog.WriteImages(model, input, [.. profile.ImageFields.Select(_ => Url)]);
            input.Remove(field.Name);
            Assert.Contains(DashScopeRequestValidator.Validate(model, input, null), e => e.Field == field.Path);
        }
    }

    [Fact]
    public void ArrayField_MoreThanMaxCount_IsRejected()
    {
        foreach (var profile in DashScopeModelCatalog.Profiles)
        {
            foreach (var field in profile.ImageFields.Where(f => f.IsArray))
            {
                var input = new JsonObject
                {
                    ["prompt"] = "a cat",
                    [field.Name] = new JsonArray([.. Enumerable.Repeat(Url, field.MaxCount + 1).Select(u => (JsonNode?)u)]),
                };
                Assert.Contains(DashScopeRequestValidator.Validate(profile.Model, input, null), e => e.Field == field.Path);
            }
        }
    }

    [Fact]
    public void AcceptsDataUri_OnlyWanxReferenceImage_TakesUrlsAlone()
    {
        var urlOnly = DashScopeModelCatalog.Profiles
            .SelectMany(p => p.ImageFields.Where(f => !f.AcceptsDataUri).Select(f => (p.Model, f.Path)))
            .ToList();

        Assert.Equal([(DashScopeModels.WanxV1, "input.ref_img")], urlOnly);
        Assert.False(DashScopeModels.AcceptsDataUri(DashScopeModels.WanxV1, "input.ref_img"));
        Assert.True(DashScopeModels.AcceptsDataUri(DashScopeModels.Wan25ImageToImagePreview, "input.images[2]"));
        Assert.True(DashScopeModels.AcceptsDataUri("some-future-model", "input.ref_img"));
    }

    [Fact]
    public void TaskKind_UnknownModel_GuessesFromTheCatalogsImageFields()
    {
        static DashScopeTaskKind KindOf(JsonObject input) =>
            DashScopeImageRequest.FromJson("some-future-model", input, null).TaskKind;

        Assert.Equal(DashScopeTaskKind.TextToImage, KindOf(new JsonObject { ["prompt"] = "a cat" }));
        Assert.Equal(DashScopeTaskKind.TextToImage, KindOf(new JsonObject { ["prompt"] = "a cat", ["ref_img"] = Url }));
        Assert.Equal(DashScopeTaskKind.ImageToImage, KindOf(new JsonObject { ["prompt"] = "a cat", ["base_image_url"] = Url }));
        Assert.Equal(DashScopeTaskKind.ImageToImage, KindOf(new JsonObject { ["prompt"] = "a cat", ["images"] = new JsonArray(Url) }));
    }

    [Fact]
    public void UploadJob_ImageEditWithMask_FillsBaseThenMask()
    {
        var job = JobIntake.UploadJob("expand/a.png", "etag-1", new Dictionary<string, string> { ["prompt"] = "p", ["mask"] = "blob%3Auploads%2Fm.png" }, new UploadOptions());

        Assert.Equal(DashScopeModels.WanxImageEdit, (string?)job["model"]);
        Assert.Equal(
            """{"function":"expand","prompt":"p","base_image_url":"blob:uploads/expand/a.png","mask_image_url":"blob:uploads/m.png"}""",
            job["input"]!.ToJsonString());
    }

    [Fact]
    public void UploadJob_Wan25_PutsTheUploadInItsImages()
    {
        var job = JobIntake.UploadJob("wan2.5-i2i-preview/a.png", "etag-1", new Dictionary<string, string> { ["mask"] = "ignored" }, new UploadOptions { DefaultPrompt = "p" });

        Assert.Equal(DashScopeModels.Wan25ImageToImagePreview, (string?)job["model"]);
        Assert.Equal("""{"prompt":"p","images":["blob:uploads/wan2.5-i2i-preview/a.png"]}""", job["input"]!.ToJsonString());
    }

    [Theory]
    [InlineData("PENDING")]
    [InlineData("RUNNING")]
    [InlineData("SUCCEEDED")]
    [InlineData("FAILED")]
    [InlineData("CANCELED")]
    [InlineData("UNKNOWN")]
    [InlineData("SUSPENDED")]
    [InlineData("SOMETHING_NEW")]
    public void TaskSnapshot_Status_AgreesWithDashScopeTaskStatus(string status)
    {
        var snapshot = new TaskSnapshot(status, null, null, null, [], new DurationWindow(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)), 1);
        var provider = new DashScopeTaskStatus(status);

        Assert.Equal(provider.IsTerminal, snapshot.IsTerminal);
        Assert.Equal(provider == DashScopeTaskStatus.Succeeded, snapshot.IsSucceeded);
        Assert.Equal(provider != DashScopeTaskStatus.Pending, snapshot.IsRunning);
    }
}

using System.Text.Json;
using ImageJobs.Workflow.Api;
using Microsoft.AspNetCore.Http;

namespace ImageJobs.Workflow.Tests;

public sealed class ManagementPayloadTests
{
    [Fact]
    public void ManagementPayload_Links_AreTheJobsRoutesOnTheCallersHostWithTheIdEscaped()
    {
        var request = new DefaultHttpContext().Request;
        request.Scheme = "https";
        request.Host = new HostString("jobs.example.test");
        request.PathBase = "/app";

        var payload = JsonSerializer.SerializeToElement(JobsApi.ManagementPayload(request, "a b/c"));

        const string Job = "https://jobs.example.test/app/api/jobs/a%20b%2Fc";
        Assert.Equal("a b/c", payload.GetProperty("id").GetString());
        Assert.Equal(Job, payload.GetProperty("statusQueryGetUri").GetString());
        Assert.Equal(Job + "/events/{eventName}", payload.GetProperty("sendEventPostUri").GetString());
        Assert.Equal(Job + "/cancel", payload.GetProperty("terminatePostUri").GetString());
        Assert.Equal(Job, payload.GetProperty("purgeHistoryDeleteUri").GetString());
    }
}

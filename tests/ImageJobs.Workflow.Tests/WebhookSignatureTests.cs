using System.Security.Cryptography;
using System.Text;
using ImageJobs.Workflow.Delivery;

namespace ImageJobs.Workflow.Tests;

public sealed class WebhookSignatureTests
{
    [Fact]
    public void Sign_StandardWebhooksExample_MatchesPublishedSignature()
    {
        // The Standard Webhooks specification's own test vector.
        var signature = WebhookSignature.Sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            Encoding.UTF8.GetBytes("{\"test\": 2432232314}"));

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    [Fact]
    public void Sign_PlainSecret_IsHmacOfIdTimestampBody()
    {
        var body = Encoding.UTF8.GetBytes("{}");
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes("s3cret"), Encoding.UTF8.GetBytes("id1.42.{}")));

        Assert.Equal(expected, WebhookSignature.Sign("s3cret", "id1", 42, body));
    }

    [Fact]
    public void Verify_TamperedBodyOrStaleTimestamp_Fails()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var body = Encoding.UTF8.GetBytes("{\"a\":1}");
        var sig = WebhookSignature.Sign("k", "m", now.ToUnixTimeSeconds(), body);

        Assert.True(WebhookSignature.Verify("k", "m", "1700000000", "v1,bogus " + sig, body, now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify("k", "m", "1700000000", sig, Encoding.UTF8.GetBytes("{\"a\":2}"), now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify("k", "m", "1700000000", sig, body, now.AddMinutes(10), TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify("other", "m", "1700000000", sig, body, now, TimeSpan.FromMinutes(5)));
    }
}

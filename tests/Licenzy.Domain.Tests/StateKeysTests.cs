using Licenzy.Domain.Products;

namespace Licenzy.Domain.Tests;

public class StateKeysTests
{
    [Theory]
    [InlineData("test", Mode.Test)]
    [InlineData("live", Mode.Live)]
    public void A_mode_reads_and_writes_as_its_lower_case_name(string wire, Mode mode)
    {
        Assert.True(Modes.TryParse(wire, out var parsed));
        Assert.Equal(mode, parsed);
        Assert.Equal(wire, mode.ToWire());
    }

    [Theory]
    [InlineData("Live")]
    [InlineData("TEST")]
    [InlineData("livemode")]
    [InlineData("")]
    [InlineData(null)]
    public void Anything_else_is_not_a_mode(string? wire)
    {
        Assert.False(Modes.TryParse(wire, out _));
    }

    [Theory]
    [InlineData("subscription", ProductKind.Subscription)]
    [InlineData("time_pass", ProductKind.TimePass)]
    [InlineData("usage_pack", ProductKind.UsagePack)]
    public void A_product_kind_reads_from_its_wire_name(string wire, ProductKind kind)
    {
        Assert.True(ProductKinds.TryParse(wire, out var parsed));
        Assert.Equal(kind, parsed);
    }

    [Theory]
    [InlineData("Subscription")]
    [InlineData("timepass")]
    [InlineData(null)]
    public void Anything_else_is_not_a_product_kind(string? wire)
    {
        Assert.False(ProductKinds.TryParse(wire, out _));
    }

    [Fact]
    public void Every_tenant_key_names_the_tenant_and_the_mode()
    {
        Assert.Equal("tenant|t1", StateKeys.Tenant("t1"));
        Assert.Equal("stripe|t1|live", StateKeys.StripeConnection("t1", Mode.Live));
        Assert.Equal("products|t1|test", StateKeys.Products("t1", Mode.Test));
        Assert.Equal("subject|t1|live|user|1", StateKeys.Subject("t1", Mode.Live, "user|1"));
        Assert.Equal("apikeys|t1|test", StateKeys.ApiKeys("t1", Mode.Test));
        Assert.Equal("apikey|abc123", StateKeys.ApiKeyByHash("abc123"));
        Assert.Equal("idempotency|t1|live|checkout|k1", StateKeys.Idempotency("t1", Mode.Live, "checkout", "k1"));
        Assert.Equal("attempt|t1|test|att_1", StateKeys.CheckoutAttempt("t1", Mode.Test, "att_1"));
        Assert.Equal("payment|t1|live|pi_1", StateKeys.Payment("t1", Mode.Live, "pi_1"));
        Assert.Equal("deadletters|t1|test", StateKeys.DeadLetters("t1", Mode.Test));
        Assert.Equal("event|t1|live|evt_1", StateKeys.ReceivedEvent("t1", Mode.Live, "evt_1"));
    }

    [Theory]
    [InlineData(Mode.Test, "user_1")]
    [InlineData(Mode.Live, "org|team|user@x")]
    public void A_subject_key_parses_back_into_its_parts(Mode mode, string subjectRef)
    {
        Assert.True(StateKeys.TryParseSubject(StateKeys.Subject("t1", mode, subjectRef), out var tenantId, out var parsedMode, out var parsedRef));

        Assert.Equal(("t1", mode, subjectRef), (tenantId, parsedMode, parsedRef));
    }

    [Theory]
    [InlineData("products|t1|test")]
    [InlineData("Subject|t1|test|user_1")]
    [InlineData("subject|t1|test")]
    [InlineData("subject||test|user_1")]
    [InlineData("subject|t1|test|")]
    [InlineData("subject|t1|prod|user_1")]
    [InlineData("subject|t1|test|user_1#history")]
    public void Other_keys_are_not_subject_keys(string key)
    {
        Assert.False(StateKeys.TryParseSubject(key, out var tenantId, out _, out var subjectRef));
        Assert.Equal(("", ""), (tenantId, subjectRef));
    }
}

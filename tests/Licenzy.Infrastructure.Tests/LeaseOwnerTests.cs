using Licenzy.Infrastructure.Embedded;
using Licenzy.Infrastructure.PubSub;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Licenzy.Infrastructure.Tests;

public sealed class LeaseOwnerTests : IDisposable
{
    private readonly TempDataFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string LockFolder => Path.Combine(_folder.Path, LeaseOwners.FolderName);

    [Fact]
    public void An_owner_runs_while_it_holds_its_lock_and_is_gone_once_it_lets_go()
    {
        using var host = TestHost.Build(_folder);
        var owners = host.Services.GetRequiredService<LeaseOwners>();
        Assert.True(owners.CanTell);

        var owner = owners.Acquire();
        Assert.False(owners.IsGone(owner.Id));
        owner.Dispose();
        Assert.True(owners.IsGone(owner.Id));
    }

    [Fact]
    public void An_owner_with_no_lock_file_is_never_judged_gone()
    {
        using var host = TestHost.Build(_folder);
        var owners = host.Services.GetRequiredService<LeaseOwners>();

        Assert.False(owners.IsGone("crashed-process"));
        Assert.False(owners.IsGone($"{Environment.MachineName}/1/{Guid.NewGuid():N}"));
    }

    [Fact]
    public void Owners_of_two_hosts_in_one_process_see_each_other_run()
    {
        using var first = TestHost.Build(_folder);
        using var second = TestHost.Build(_folder);
        using var owner = first.Services.GetRequiredService<LeaseOwners>().Acquire();

        Assert.False(second.Services.GetRequiredService<LeaseOwners>().IsGone(owner.Id));
    }

    [Fact]
    public async Task A_dispatcher_start_removes_the_lock_files_of_gone_owners_that_no_lease_names()
    {
        var probe = new Probe<MainTopic>();
        using var host = TestHost.Build(_folder, services: s => s.AddProbe(probe));
        var owners = host.Services.GetRequiredService<LeaseOwners>();
        await host.Services.GetRequiredService<IPublisher>().PublishAsync("elsewhere", "theirs", 1);
        using var running = owners.Acquire();
        var goneWithLease = owners.Acquire();
        Assert.Single(await host.Services.GetRequiredService<OutboxQueue>()
            .ClaimAsync(goneWithLease.Id, ["elsewhere"], 1, TimeSpan.FromMinutes(1), default));
        goneWithLease.Dispose();
        var goneWithout = owners.Acquire();
        goneWithout.Dispose();

        await host.StartAsync();
        await host.StopAsync();

        var left = Directory.GetFiles(LockFolder).Select(Path.GetFileNameWithoutExtension).ToHashSet();
        Assert.Contains(KeyOf(running.Id), left);
        Assert.Contains(KeyOf(goneWithLease.Id), left);
        Assert.DoesNotContain(KeyOf(goneWithout.Id), left);
    }

    private static string KeyOf(string ownerId) => ownerId[(ownerId.LastIndexOf('/') + 1)..];
}

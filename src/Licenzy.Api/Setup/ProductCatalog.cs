using Licenzy.Domain;
using Licenzy.Domain.Products;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;

namespace Licenzy.Api.Setup;

/// <summary>The products of one tenant and mode, kept as one small document.</summary>
public sealed record ProductList(List<Product> Products);

public sealed class ProductCatalog(IStateStoreFactory stores)
{
    private readonly IStateStore _state = stores.Get(Components.StateStore);

    public async Task<IReadOnlyList<Product>> ListAsync(string tenantId, Mode mode, CancellationToken ct) =>
        (await _state.GetAsync<ProductList>(StateKeys.Products(tenantId, mode), ct))?.Value.Products ?? [];

    public async Task<Product?> FindAsync(string tenantId, Mode mode, string code, CancellationToken ct) =>
        (await ListAsync(tenantId, mode, ct)).FirstOrDefault(p => p.Code == code);

    /// <summary>Adds a product; false when the code is taken.</summary>
    public async Task<bool> TryAddAsync(string tenantId, Mode mode, Product product, CancellationToken ct)
    {
        while (true)
        {
            var current = await _state.GetAsync<ProductList>(StateKeys.Products(tenantId, mode), ct);
            var products = current?.Value.Products ?? [];
            if (products.Any(p => p.Code == product.Code)) return false;
            var written = await _state.TrySaveAsync(StateKeys.Products(tenantId, mode),
                new ProductList([.. products, product]), current?.ETag, ct);
            if (written) return true;
        }
    }
}

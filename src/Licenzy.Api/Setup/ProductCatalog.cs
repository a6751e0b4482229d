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

    /// <summary>
    /// Replaces the product <paramref name="code"/> with what <paramref name="change"/> makes of it
    /// (ETag-checked, so a concurrent change is not lost); null when there is no such product.
    /// </summary>
    public async Task<Product?> TryUpdateAsync(string tenantId, Mode mode, string code, Func<Product, Product> change, CancellationToken ct)
    {
        while (true)
        {
            var current = await _state.GetAsync<ProductList>(StateKeys.Products(tenantId, mode), ct);
            var index = current?.Value.Products.FindIndex(p => p.Code == code) ?? -1;
            if (index < 0) return null;
            var before = current!.Value.Products[index];
            var after = change(before);
            if (after == before) return before;
            var products = new List<Product>(current.Value.Products) { [index] = after };
            if (await _state.TrySaveAsync(StateKeys.Products(tenantId, mode), new ProductList(products), current.ETag, ct)) return after;
        }
    }
}

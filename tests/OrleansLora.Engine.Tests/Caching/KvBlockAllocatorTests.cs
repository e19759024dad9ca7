using OrleansLora.Engine.Caching;

namespace OrleansLora.Engine.Tests.Caching;

/// <summary>The block allocator on ids alone: tables, reference counts, the prefix cache, LRU eviction.</summary>
public sealed class KvBlockAllocatorTests
{
    private const int BlockSize = 4;

    private static KvBlockAllocator Allocator(int blocks, bool prefixCaching = true) => new(new KvBlockLayout(BlockSize, blocks), prefixCaching);

    private static int[] Tokens(int count, int offset = 0) => Enumerable.Range(offset, count).ToArray();

    /// <summary>Admits a sequence, computes all of it and keys its full blocks.</summary>
    private static KvSequenceBlocks Run(KvBlockAllocator allocator, string adapter, int[] tokens)
    {
        var seq = allocator.TryAdmit(adapter, tokens)!;
        Assert.NotNull(seq);
        allocator.Commit(seq, tokens, tokens.Length);
        return seq;
    }

    [Fact]
    public void Admission_takes_blocks_for_every_token_and_free_gives_them_back()
    {
        var allocator = Allocator(8);
        var seq = allocator.TryAdmit("", Tokens(9))!;
        Assert.Equal(3, seq.Blocks.Count);
        Assert.Equal(3, seq.Blocks.Distinct().Count());
        Assert.Equal(0, seq.ReusedTokens);
        Assert.Equal(5, allocator.AvailableBlocks);
        Assert.True(allocator.TryGrow(seq, 13));
        Assert.Equal(4, seq.Blocks.Count);
        Assert.True(allocator.TryGrow(seq, 16)); // still inside block 4
        Assert.Equal(4, seq.Blocks.Count);
        allocator.Free(seq);
        Assert.Equal(8, allocator.AvailableBlocks);
        Assert.Equal(0, allocator.UsedBlocks);
    }

    [Fact]
    public void Admission_and_growth_take_nothing_when_the_blocks_are_not_there()
    {
        var allocator = Allocator(4);
        var first = allocator.TryAdmit("", Tokens(12))!;
        Assert.Null(allocator.TryAdmit("", Tokens(8, 100)));
        Assert.Equal(1, allocator.AvailableBlocks);
        Assert.False(allocator.TryGrow(first, 20)); // needs two more
        Assert.Equal(3, first.Blocks.Count);
        Assert.Equal(1, allocator.AvailableBlocks);
    }

    [Fact]
    public void A_later_sequence_reuses_the_full_blocks_of_its_longest_cached_prefix()
    {
        var allocator = Allocator(16);
        var a = Run(allocator, "", Tokens(10)); // blocks 0-3, 4-7 full; 8-9 partial
        var prompt = Tokens(8).Concat([500, 501, 502]).ToArray();
        var b = allocator.TryAdmit("", prompt)!;
        Assert.Equal(8, b.ReusedTokens);
        Assert.Equal(a.Blocks[..2], b.Blocks[..2]);
        Assert.NotEqual(a.Blocks[2], b.Blocks[2]);
        // A different first block: nothing after it matches either (keys chain).
        var c = allocator.TryAdmit("", new[] { 99, 1, 2, 3, 4, 5, 6, 7, 8 })!;
        Assert.Equal(0, c.ReusedTokens);
        Assert.Equal(8 + 0, allocator.HitTokens);
        Assert.Equal(10 + 11 + 9, allocator.LookupTokens);
    }

    [Fact]
    public void The_last_prompt_token_is_always_computed_even_when_every_block_is_cached()
    {
        var allocator = Allocator(16);
        Run(allocator, "", Tokens(8));
        var again = allocator.TryAdmit("", Tokens(8))!;
        Assert.Equal(4, again.ReusedTokens); // block 2 holds the last token: computed again, in a new block
        Assert.Equal(2, again.Blocks.Count);
    }

    [Fact]
    public void An_adapter_never_reuses_blocks_computed_under_another_adapter_or_the_base_model()
    {
        var allocator = Allocator(32);
        Run(allocator, "", Tokens(13));
        Run(allocator, "a", Tokens(13));
        Assert.Equal(0, allocator.TryAdmit("b", Tokens(13))!.ReusedTokens);
        Assert.Equal(12, allocator.TryAdmit("a", Tokens(13))!.ReusedTokens);
        Assert.Equal(12, allocator.TryAdmit("", Tokens(13))!.ReusedTokens);
        Assert.Equal(0, new PrefixBlockKey("a", 0, [1, 2]).Equals(new PrefixBlockKey("", 0, [1, 2])) ? 1 : 0);
    }

    [Fact]
    public void Shared_blocks_are_counted_once_and_stay_while_any_sequence_holds_them()
    {
        var allocator = Allocator(8);
        var a = Run(allocator, "", Tokens(9));
        var b = allocator.TryAdmit("", Tokens(9))!; // shares two blocks, one new
        Assert.Equal(4, allocator.UsedBlocks);
        allocator.Free(a);
        Assert.Equal(3, allocator.UsedBlocks); // the shared two stay referenced by b
        allocator.Free(b);
        Assert.Equal(0, allocator.UsedBlocks);
        Assert.Equal(8, allocator.AvailableBlocks);
        Assert.Equal(2, allocator.CachedBlocks); // kept for the next request, yet available
    }

    [Fact]
    public void Unreferenced_cached_blocks_are_evicted_least_recently_released_first()
    {
        var allocator = Allocator(4);
        var old = Run(allocator, "", Tokens(5, 0));    // caches one block, holds two
        allocator.Free(old);
        var recent = Run(allocator, "", Tokens(5, 100)); // caches one more
        allocator.Free(recent);
        Assert.Equal(2, allocator.CachedBlocks);
        Assert.Equal(4, allocator.AvailableBlocks);
        // Three blocks: the two free ones and then the oldest cached one.
        var big = allocator.TryAdmit("", Tokens(12, 1000))!;
        Assert.NotNull(big);
        Assert.Equal(1, allocator.Evictions);
        allocator.Free(big);
        Assert.Equal(0, allocator.TryAdmit("", Tokens(5, 0))!.ReusedTokens);
        Assert.Equal(4, allocator.TryAdmit("", Tokens(5, 100))!.ReusedTokens);
    }

    [Fact]
    public void Admission_counts_an_idle_cached_prefix_once_not_as_free_and_hit()
    {
        var allocator = Allocator(3);
        var a = Run(allocator, "", Tokens(8)); // two full blocks, cached
        allocator.Free(a);
        Assert.Equal(3, allocator.AvailableBlocks);
        // 12 tokens: two blocks reused (taken out of the available ones) plus one new = 3: fits.
        var b = allocator.TryAdmit("", Tokens(12))!;
        Assert.Equal(8, b.ReusedTokens);
        Assert.Equal(0, allocator.AvailableBlocks);
        allocator.Free(b);
        // 13 tokens would need two reused and two new: 4 > 3.
        Assert.False(allocator.CanAdmit("", Tokens(13)));
    }

    [Fact]
    public void Forget_drops_an_adapters_cached_blocks_and_prefix_caching_off_caches_nothing()
    {
        var allocator = Allocator(8);
        allocator.Free(Run(allocator, "a", Tokens(9)));
        Assert.Equal(2, allocator.CachedBlocks);
        allocator.Forget("a");
        Assert.Equal(0, allocator.CachedBlocks);
        Assert.Equal(8, allocator.AvailableBlocks);
        Assert.Equal(0, allocator.TryAdmit("a", Tokens(9))!.ReusedTokens);

        var off = Allocator(8, prefixCaching: false);
        off.Free(Run(off, "", Tokens(9)));
        Assert.Equal(0, off.CachedBlocks);
        Assert.Equal(0, off.TryAdmit("", Tokens(9))!.ReusedTokens);
    }

    [Fact]
    public void A_block_released_twice_is_refused()
    {
        var allocator = Allocator(2);
        var seq = allocator.TryAdmit("", Tokens(3))!;
        var taken = seq.Blocks.ToList();
        allocator.Free(seq);
        seq.Blocks.AddRange(taken); // a stale table given back again
        Assert.Throws<InvalidOperationException>(() => allocator.Free(seq));
    }
}

using System.Numerics;

namespace OrleansLora.Engine.Sampling;

/// <summary>
/// Selection over token ids ranked by score (softmax numerator), highest first, ties to the lowest id.
/// A total order (ids are unique), so top-k / top-p pick the same tokens however the algorithm happens to
/// visit them, and the selection itself is deterministic: that is what makes seeded sampling reproducible.
/// Nothing here sorts the vocabulary: both selections are introselect, expected O(n), falling back to
/// sorting only the remaining range if median-of-three pivots keep going wrong (so adversarial logits
/// cannot make a step quadratic). Scores must not be NaN: that would break the total order.
/// </summary>
internal static class TokenRanking
{
    /// <summary>Compare(a, b) &lt; 0 when token a ranks before token b.</summary>
    internal readonly struct ByScoreDescending(float[] scores) : IComparer<int>
    {
        public int Compare(int a, int b)
        {
            float sa = scores[a], sb = scores[b];
            if (sa > sb) return -1;
            if (sa < sb) return 1;
            return a.CompareTo(b);
        }
    }

    /// <summary>
    /// Rearranges <paramref name="ids"/> so its first <paramref name="count"/> entries are the best-ranked
    /// ones (in no particular order, but a deterministic one).
    /// </summary>
    public static void SelectTop(Span<int> ids, float[] scores, int count)
    {
        if (count <= 0 || count >= ids.Length)
            return;

        var cmp = new ByScoreDescending(scores);
        int k = count - 1;
        int lo = 0, hi = ids.Length - 1;
        int budget = PivotBudget(ids.Length);
        while (hi > lo)
        {
            if (budget-- == 0)
            {
                ids[lo..(hi + 1)].Sort(cmp);
                return;
            }

            Partition(ids, lo, hi, cmp, out int i, out int j);
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return; // k is the pivot, already in place
        }
    }

    /// <summary>
    /// Writes the ids of the <paramref name="best"/>.Length best-ranked scores into <paramref name="best"/>
    /// (in heap order: deterministic, not sorted). One pass over the scores with a size-k min-heap: for the
    /// small k that requests use, almost every token is rejected by a single compare against the heap's
    /// worst, which beats partitioning an id array. Worst case (ascending scores) O(n log k).
    /// </summary>
    public static void SelectTopByScan(ReadOnlySpan<float> scores, Span<int> best)
    {
        int k = best.Length;
        if (k == 0)
            return;
        if (k > scores.Length)
            throw new ArgumentException("cannot select more tokens than there are scores.", nameof(best));

        // best[0] is the worst kept token. Ids arrive in increasing order, so a later token that ties the
        // worst's score ranks after it and is rejected by the '<=' below.
        for (int i = 0; i < k; i++)
        {
            best[i] = i;
            SiftUp(best, i, scores);
        }

        float worst = scores[best[0]];
        for (int i = k; i < scores.Length; i++)
        {
            if (scores[i] <= worst)
                continue;
            best[0] = i;
            SiftDown(best, scores);
            worst = scores[best[0]];
        }
    }

    // Min-heap on rank: a parent ranks after (is worse than) its children.
    private static bool Worse(ReadOnlySpan<float> scores, int a, int b) =>
        scores[a] < scores[b] || (scores[a] == scores[b] && a > b);

    private static void SiftUp(Span<int> heap, int index, ReadOnlySpan<float> scores)
    {
        int item = heap[index];
        while (index > 0)
        {
            int parent = (index - 1) >> 1;
            if (!Worse(scores, item, heap[parent]))
                break;
            heap[index] = heap[parent];
            index = parent;
        }

        heap[index] = item;
    }

    private static void SiftDown(Span<int> heap, ReadOnlySpan<float> scores)
    {
        int index = 0, item = heap[0];
        while (true)
        {
            int child = 2 * index + 1;
            if (child >= heap.Length)
                break;
            if (child + 1 < heap.Length && Worse(scores, heap[child + 1], heap[child]))
                child++;
            if (!Worse(scores, heap[child], item))
                break;
            heap[index] = heap[child];
            index = child;
        }

        heap[index] = item;
    }

    /// <summary>
    /// Top-p over a whole vocabulary of non-negative scores: writes into <paramref name="ids"/> the smallest
    /// best-first set of token ids whose scores sum to at least <paramref name="target"/> (in no particular,
    /// but deterministic, order) and returns its size. Tokens are first bucketed by float exponent, an exact
    /// monotone key: buckets above the one where the running mass crosses the target are wholly in, those
    /// below wholly out, and only the crossing bucket needs selection. A flat 128k distribution thus costs
    /// two linear passes plus a selection over a few thousand ids, instead of one over the whole vocabulary.
    /// </summary>
    public static int SelectNucleus(float[] scores, int count, double target, Span<int> ids)
    {
        Span<double> bucketMass = stackalloc double[256];
        bucketMass.Clear();
        for (int i = 0; i < count; i++)
            bucketMass[Bucket(scores[i])] += scores[i];

        int crossing = 255;
        double above = 0; // stays < target
        for (; crossing > 0; crossing--)
        {
            if (above + bucketMass[crossing] >= target)
                break;
            above += bucketMass[crossing];
        }

        // Whole buckets fill ids from the front, the crossing bucket from the back.
        int front = 0, back = count;
        for (int i = 0; i < count; i++)
        {
            int bucket = Bucket(scores[i]);
            if (bucket > crossing)
                ids[front++] = i;
            else if (bucket == crossing)
                ids[--back] = i;
        }

        Span<int> crossingIds = ids[back..count];
        int take = SelectNucleus(crossingIds, scores, target - above) + 1;
        crossingIds[..take].CopyTo(ids[front..]); // may overlap; Span.CopyTo copies as if via a temporary
        return front + take;
    }

    // Biased exponent of a non-negative float: monotone in its value, 0 for zero and subnormals.
    private static int Bucket(float score) => (int)(BitConverter.SingleToUInt32Bits(score) >> 23);

    /// <summary>
    /// Top-p: rearranges <paramref name="ids"/> and returns q such that ids[0..q] (inclusive) is the smallest
    /// best-first prefix whose scores sum to at least <paramref name="target"/>, without sorting it. If rounding
    /// keeps the total just under the target, the whole span is the prefix.
    /// </summary>
    public static int SelectNucleus(Span<int> ids, float[] scores, double target)
    {
        var cmp = new ByScoreDescending(scores);
        int lo = 0, hi = ids.Length - 1;
        double before = 0; // mass of ids[0..lo), all ranked ahead of the current range; stays < target
        int budget = PivotBudget(ids.Length);
        while (lo < hi)
        {
            if (budget-- == 0)
            {
                ids[lo..(hi + 1)].Sort(cmp);
                for (int q = lo; q < hi; q++)
                {
                    before += scores[ids[q]];
                    if (before >= target)
                        return q;
                }

                return hi;
            }

            Partition(ids, lo, hi, cmp, out int i, out int j);
            double better = 0;
            for (int q = lo; q <= j; q++)
                better += scores[ids[q]];

            if (before + better >= target)
            {
                hi = j; // non-empty: an empty part has zero mass and before < target
                continue;
            }

            before += better;
            if (i == j + 2)
            {
                before += scores[ids[j + 1]];
                if (before >= target)
                    return j + 1;
            }

            lo = i;
        }

        // lo > hi only when rounding made the sub-sums disagree with an earlier total; hi is then the last
        // token of the range that was known to reach the target.
        return Math.Min(lo, hi);
    }

    /// <summary>
    /// Hoare partition around a median-of-three pivot. Afterwards [lo, j] rank before the pivot, [i, hi]
    /// after it, and when i == j + 2 the pivot itself sits at j + 1. Both parts are smaller than the range.
    /// </summary>
    private static void Partition(Span<int> ids, int lo, int hi, ByScoreDescending cmp, out int i, out int j)
    {
        int mid = lo + ((hi - lo) >> 1);
        // Also leaves sentinels at both ends, so the scans below cannot run off the range.
        if (cmp.Compare(ids[mid], ids[lo]) < 0) Swap(ids, mid, lo);
        if (cmp.Compare(ids[hi], ids[lo]) < 0) Swap(ids, hi, lo);
        if (cmp.Compare(ids[hi], ids[mid]) < 0) Swap(ids, hi, mid);
        int pivot = ids[mid];

        i = lo;
        j = hi;
        while (i <= j)
        {
            while (cmp.Compare(ids[i], pivot) < 0) i++;
            while (cmp.Compare(ids[j], pivot) > 0) j--;
            if (i <= j)
            {
                Swap(ids, i, j);
                i++;
                j--;
            }
        }
    }

    private static int PivotBudget(int length) => 2 * BitOperations.Log2((uint)length) + 4;

    private static void Swap(Span<int> ids, int a, int b) => (ids[a], ids[b]) = (ids[b], ids[a]);
}

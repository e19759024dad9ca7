namespace OrleansLora.Reliability.Tests.BadInput;

/// <summary>Every bad-input case, by name (names are unique: a theory row carries only its case's name).</summary>
public static class BadInputCorpus
{
    private static readonly Lazy<IReadOnlyDictionary<string, BadInputCase>> Cases = new(() =>
    {
        var all = new Dictionary<string, BadInputCase>(StringComparer.Ordinal);
        foreach (var c in FieldCorpus.All().Concat(RawCorpus.All()).Concat(RouteCorpus.All()))
        {
            if (!all.TryAdd(c.Name, c))
                throw new InvalidOperationException($"two bad-input cases are named \"{c.Name}\".");
        }
        return all;
    });

    public static IReadOnlyDictionary<string, BadInputCase> ByName => Cases.Value;

    /// <summary>xunit rows: one per case, shown by its name.</summary>
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (string name in ByName.Keys)
            data.Add(name);
        return data;
    }
}

using System.IO.Compression;

namespace OrleansLora.Engine.Tokenization.Unicode;

/// <summary>
/// The embedded normalization.bin read into lookups: combining classes, full canonical and
/// compatibility decompositions (expanded recursively once, at load), and the canonical
/// compositions (two-code-point canonical mappings without Full_Composition_Exclusion).
/// </summary>
internal sealed class NormalizationTables
{
    private const string ResourceName = "OrleansLora.Engine.Tokenization.Unicode.normalization.bin";

    private readonly byte[] _bmpClasses = new byte[0x10000];
    private readonly Dictionary<int, byte> _supplementaryClasses = [];
    private readonly Dictionary<int, int[]> _canonical = [];
    private readonly Dictionary<int, int[]> _compatibility = [];
    private readonly Dictionary<long, int> _compositions = [];

    private NormalizationTables(string version) => Version = version;

    public string Version { get; }

    public int CombiningClass(int cp) =>
        cp < 0x10000 ? _bmpClasses[cp] : _supplementaryClasses.GetValueOrDefault(cp);

    /// <summary>The full decomposition of <paramref name="cp"/>, or null when it has none.</summary>
    public int[]? Decomposition(int cp, bool compatibility) =>
        (compatibility ? _compatibility : _canonical).GetValueOrDefault(cp);

    public bool TryCompose(int first, int second, out int composite) =>
        _compositions.TryGetValue(((long)first << 21) | (uint)second, out composite);

    public static NormalizationTables Load()
    {
        using var resource = typeof(NormalizationTables).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the build.");
        using var inflated = new DeflateStream(resource, CompressionMode.Decompress);
        using var reader = new BinaryReader(inflated);
        if (new string(reader.ReadChars(4)) != "ONRM" || reader.ReadByte() != 1)
            throw new InvalidDataException($"{ResourceName} is not a format-1 normalization table.");
        var tables = new NormalizationTables(new string(reader.ReadChars(reader.ReadByte())));

        uint classes = reader.ReadUInt32();
        for (uint i = 0; i < classes; i++)
        {
            int cp = (int)reader.ReadUInt32();
            byte ccc = reader.ReadByte();
            if (cp < 0x10000)
                tables._bmpClasses[cp] = ccc;
            else
                tables._supplementaryClasses[cp] = ccc;
        }

        var canonical = new Dictionary<int, int[]>();
        var any = new Dictionary<int, int[]>();
        uint count = reader.ReadUInt32();
        for (uint i = 0; i < count; i++)
        {
            int cp = (int)reader.ReadUInt32();
            byte flags = reader.ReadByte();
            var mapping = new int[reader.ReadByte()];
            for (int j = 0; j < mapping.Length; j++)
                mapping[j] = (int)reader.ReadUInt32();
            any[cp] = mapping;
            if ((flags & 1) != 0)
                continue;
            canonical[cp] = mapping;
            if (mapping.Length == 2 && (flags & 2) == 0)
                tables._compositions[((long)mapping[0] << 21) | (uint)mapping[1]] = cp;
        }
        foreach (int cp in canonical.Keys)
            tables._canonical[cp] = Expand(cp, canonical);
        foreach (int cp in any.Keys)
            tables._compatibility[cp] = Expand(cp, any);
        return tables;
    }

    private static int[] Expand(int cp, Dictionary<int, int[]> mappings)
    {
        if (!mappings.TryGetValue(cp, out var mapping))
            return [cp];
        return [.. mapping.SelectMany(m => Expand(m, mappings))];
    }
}

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// How BPE token strings become text (the tokenizer.json <c>decoder</c>).
/// </summary>
/// <param name="ByteLevel">Token characters are GPT-2 byte-level characters.</param>
/// <param name="Marker">SentencePiece word marker ("▁") that decodes to a space, or null.</param>
/// <param name="ByteFallback">Tokens "&lt;0xNN&gt;" decode to the raw byte NN.</param>
/// <param name="StripLeadingSpaces">Spaces removed from the start of the text (Strip decoder).</param>
/// <param name="StripFirstMarker">The first token's leading marker is dropped (Metaspace decoder).</param>
internal sealed record BpeDecoding(
    bool ByteLevel,
    char? Marker,
    bool ByteFallback,
    int StripLeadingSpaces,
    bool StripFirstMarker)
{
    public static BpeDecoding ByteLevelDecoding { get; } = new(true, null, false, 0, false);

    public static BpeDecoding Raw { get; } = new(false, null, false, 0, false);
}

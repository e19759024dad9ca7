namespace OrleansLora.Engine.Caching;

/// <summary>A paged KV cache's geometry: <see cref="BlockCount"/> blocks of <see cref="BlockSize"/> positions.</summary>
public sealed record KvBlockLayout(int BlockSize, int BlockCount);

namespace OrleansLora.Engine.Quantization;

/// <summary>How the base model's linear layers are stored (embeddings and norms stay in the compute dtype).</summary>
public enum QuantizationMode
{
    /// <summary>Compute dtype, dense.</summary>
    None,

    /// <summary>int8, symmetric per output channel.</summary>
    Int8,

    /// <summary>4-bit NormalFloat, blocks of 64 with an absmax each (bitsandbytes layout).</summary>
    Nf4,
}

using System.Runtime.InteropServices;

namespace OrleansLora.Engine.Native;

/// <summary>A decode step's sizes, buffers, KV cache and LoRA segments as <c>olora_decode_step</c> lays them out (float32 buffers, contiguous rows).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeDecodeStep
{
    public int Rows, Hidden, NumHeads, KvHeads, HeadDim, Intermediate;
    public int Pending;
    public int CacheDtype;
    public float* Residual;
    public float* Normed;
    public float* Qkv;
    public float* Attended;
    public float* Projected;
    public float* GateUp;
    public float* Activation;
    public float* MlpOutput;
    public int* Positions;
    public float* CosTable;
    public float* SinTable;
    public int MaxPositions;
    public int BlockSize;
    public long NumBlocks;
    public void** KPools;
    public void** VPools;
    public long* SlotMapping;
    public int* BlockTables;
    public long BlockTableStride;
    public int MaxBlocksPerSeq;
    public int SlidingWindow;
    public int* ContextLens;
    public int LoraSegments;
    public int LoraDtype;
    public int LoraSlots;
    public int LoraMaxRank;
    public int* LoraSegStarts;
    public int* LoraSegSlots;
    public float* LoraSlotScales;
    public NativeLoraRef* Lora;
}

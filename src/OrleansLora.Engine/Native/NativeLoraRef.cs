using System.Runtime.InteropServices;

namespace OrleansLora.Engine.Native;

/// <summary>
/// One projection's LoRA tables in one layer as <c>olora_lora_ref</c> names them: A [slots, maxRank, in], Bᵀ
/// [slots, maxRank, out], and each slot's rank there (0: the slot's adapter leaves the projection alone).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeLoraRef
{
    public void* ATable;
    public void* BTable;
    public int* SlotRanks;
}

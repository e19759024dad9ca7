using System.Runtime.InteropServices;

namespace OrleansLora.Engine.Native;

/// <summary>One projection's weights as <c>olora_linear_ref</c> names them: y = x · Wᵀ, W [out, in].</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeLinearRef
{
    public const int KindFloat32 = 0; // OLORA_LINEAR_F32: float32 [out, in], row stride in
    public const int KindNf4 = 1;     // OLORA_LINEAR_NF4: codes and absmax
    public const int KindInt8 = 2;    // OLORA_LINEAR_INT8: int8 [out, in] and per-row scales

    public int Kind;
    public int Compute;
    public int OutFeatures;
    public int InFeatures;
    public void* Weight;
    public float* Scales;
}

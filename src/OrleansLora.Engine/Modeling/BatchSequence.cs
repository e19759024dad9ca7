namespace OrleansLora.Engine.Modeling;

/// <summary>
/// One sequence's part of a forward batch: <see cref="TokenCount"/> consecutive tokens starting at
/// position <see cref="StartPosition"/>, whose keys/values live in KV slot <see cref="Slot"/>, or,
/// in a paged cache, in the blocks of <see cref="BlockTable"/> (position p in block
/// <c>BlockTable[p / blockSize]</c>; <see cref="Slot"/> is then only the sequence's handle).
/// Decode is TokenCount 1; a prompt (or a chunk of one) is more. <see cref="AdapterSlot"/> is the
/// LoRA slot whose update applies to these rows, or -1 for the base model.
/// </summary>
public readonly record struct BatchSequence(int Slot, int StartPosition, int TokenCount, int AdapterSlot = -1, int[]? BlockTable = null);

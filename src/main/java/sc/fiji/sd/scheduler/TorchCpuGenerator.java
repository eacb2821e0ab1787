package sc.fiji.sd.scheduler;

import java.util.random.RandomGenerator;

/**
 * The random numbers of PyTorch's CPU generator after {@code torch.manual_seed(seed)}: a Mersenne Twister
 * (MT19937) whose {@link #nextGaussian()} sequence, read in array order, equals the values of
 * {@code torch.randn(shape)} for float32 tensors whose element count is a multiple of 16 (every SD latent: 4·h·w).
 * <p>
 * Why: diffusers' tests and many published images use {@code torch.manual_seed}; with this generator a Java run can
 * reproduce them (stochastic samplers, initial latents). torch fills a float32 tensor with 24-bit uniforms, then turns
 * each block of 16 into normals with the Box–Muller transform, pairing element j with element j + 8. The last
 * block of a tensor whose size is not a multiple of 16 is drawn differently in torch, and so would not match.
 */
public final class TorchCpuGenerator implements RandomGenerator {

	private static final int N = 624, M = 397;

	private final int[] mt = new int[N];
	private int index;
	private final double[] normals = new double[16];
	private int normalIndex = 16;

	public TorchCpuGenerator(long seed) {
		mt[0] = (int) seed; // torch's mt19937 keeps the low 32 bits of the seed
		for (int i = 1; i < N; i++)
			mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
		index = N;
	}

	/** The next 32-bit output of MT19937, as an unsigned value in an int. */
	public int nextUint32() {
		if (index >= N) twist();
		int y = mt[index++];
		y ^= y >>> 11;
		y ^= (y << 7) & 0x9d2c5680;
		y ^= (y << 15) & 0xefc60000;
		y ^= y >>> 18;
		return y;
	}

	private void twist() {
		for (int i = 0; i < N; i++) {
			int y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
			int next = mt[(i + M) % N] ^ (y >>> 1);
			if ((y & 1) != 0) next ^= 0x9908b0df;
			mt[i] = next;
		}
		index = 0;
	}

	/** Two 32-bit outputs, the first in the high half (torch's {@code random64}). */
	@Override
	public long nextLong() {
		long hi = nextUint32() & 0xffffffffL, lo = nextUint32() & 0xffffffffL;
		return hi << 32 | lo;
	}

	/** torch's float32 uniform in [0, 1): the low 24 bits of one output times 2^-24. */
	@Override
	public float nextFloat() {
		return (nextUint32() & 0xffffff) * 0x1p-24f;
	}

	/** The next value of torch.randn's float32 sequence (see the class comment), as a double holding a float. */
	@Override
	public double nextGaussian() {
		if (normalIndex == 16) {
			float[] u = new float[16];
			for (int k = 0; k < 16; k++)
				u[k] = nextFloat();
			for (int j = 0; j < 8; j++) {
				float u1 = 1 - u[j]; // (0, 1] for the logarithm
				float radius = (float) Math.sqrt(-2 * (float) Math.log(u1));
				float theta = (float) (2.0 * Math.PI * u[j + 8]);
				normals[j] = (float) (radius * (float) Math.cos(theta));
				normals[j + 8] = (float) (radius * (float) Math.sin(theta));
			}
			normalIndex = 0;
		}
		return normals[normalIndex++];
	}
}

package sc.fiji.sd.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The MT19937 core against the C++ standard's reference value, and the normal sequence's properties. That the normals
 * equal torch.randn's is shown by the Euler ancestral and LCM cases of {@link DiffusersConformanceTest}, which use
 * torch.manual_seed(0).
 */
class TorchCpuGeneratorTest {

	@Test // C++ [rand.predef]: the 10000th output of a default-constructed mt19937 (seed 5489) is 4123659995
	void mersenneTwisterReferenceValue() {
		TorchCpuGenerator g = new TorchCpuGenerator(5489);
		assertEquals(3499211612L, g.nextUint32() & 0xffffffffL); // first output, seed 5489
		for (int i = 1; i < 9999; i++)
			g.nextUint32();
		assertEquals(4123659995L, g.nextUint32() & 0xffffffffL);
	}

	@Test
	void uniformFloatsHave24Bits() {
		TorchCpuGenerator g = new TorchCpuGenerator(0);
		for (int i = 0; i < 1000; i++) {
			float u = g.nextFloat();
			assertTrue(u >= 0 && u < 1);
			assertEquals(u, Math.scalb((float) Math.rint(Math.scalb(u, 24)), -24));
		}
	}

	@Test
	void normalsAreStandardAndSeeded() {
		TorchCpuGenerator g = new TorchCpuGenerator(42);
		int n = 160000;
		double sum = 0, sumSq = 0;
		for (int i = 0; i < n; i++) {
			double x = g.nextGaussian();
			assertEquals((float) x, x, "float32 values");
			sum += x;
			sumSq += x * x;
		}
		assertEquals(0, sum / n, 0.01);
		assertEquals(1, sumSq / n, 0.01);
		assertEquals(new TorchCpuGenerator(7).nextGaussian(), new TorchCpuGenerator(7).nextGaussian());
		assertNotEquals(new TorchCpuGenerator(7).nextGaussian(), new TorchCpuGenerator(8).nextGaussian());
	}

	@Test // Box-Muller in blocks of 16: element j and j + 8 share one radius
	void blocksOfSixteenPairElementJWithJPlus8() {
		TorchCpuGenerator g = new TorchCpuGenerator(3);
		double[] block = new double[16];
		for (int i = 0; i < 16; i++)
			block[i] = g.nextGaussian();
		TorchCpuGenerator u = new TorchCpuGenerator(3);
		float[] uniforms = new float[16];
		for (int i = 0; i < 16; i++)
			uniforms[i] = u.nextFloat();
		for (int j = 0; j < 8; j++) {
			double radius = Math.sqrt(-2 * Math.log(1 - uniforms[j]));
			assertEquals(radius, Math.hypot(block[j], block[j + 8]), 1e-5);
		}
	}
}

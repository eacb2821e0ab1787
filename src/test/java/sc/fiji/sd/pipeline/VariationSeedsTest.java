package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import sc.fiji.sd.StableDiffusionException;

/**
 * A1111's variation seeds on the embedded model: strength 0 changes nothing, 1 is the variation seed's image, values
 * between give an image of both, and every image replays alone from its parameters text.
 */
class VariationSeedsTest {

	private static final StableDiffusionPipeline PIPELINE = TestModels.pipeline("embedded");

	private static GenerationRequest.Builder request() {
		return GenerationRequest.builder().prompt("a red circle").size(64, 64).steps(4).scheduler("DDIM");
	}

	private static GeneratedImage one(GenerationRequest.Builder b) {
		return PIPELINE.generate(b.build(), null).images().get(0);
	}

	@Test
	void strengthZeroIsTheSeedsImageAndSaysNothing() {
		GeneratedImage plain = one(request().seed(5));
		GeneratedImage zero = one(request().seed(5).variationSeed(77).variationStrength(0));
		assertTrue(PipelineEndToEndTest.samePixels(plain.pixels(), zero.pixels()));
		assertEquals(plain.parameters(), zero.parameters());
		assertFalse(zero.parameters().contains("Variation"));
		// a batch at strength 0 counts the seeds up as always
		List<GeneratedImage> batch = PIPELINE.generate(request().seed(5).variationSeed(77).batchSize(2).build(), null)
			.images();
		assertEquals(6, batch.get(1).seed());
	}

	@Test
	void strengthOneIsTheVariationSeedsImage() {
		List<GeneratedImage> varied = PIPELINE.generate(request().seed(5).variationSeed(9).variationStrength(1)
			.batchSize(2).build(), null).images();
		// A1111: every image keeps the seed, the variation seed counts up
		assertEquals(5, varied.get(0).seed());
		assertEquals(5, varied.get(1).seed());
		assertTrue(PipelineEndToEndTest.samePixels(one(request().seed(9)).pixels(), varied.get(0).pixels()));
		assertTrue(PipelineEndToEndTest.samePixels(one(request().seed(10)).pixels(), varied.get(1).pixels()));
	}

	@Test
	void strengthBetweenMixesBothAndIsWritten() {
		GeneratedImage seed = one(request().seed(5)), variation = one(request().seed(9));
		GeneratedImage mixed = one(request().seed(5).variationSeed(9).variationStrength(0.3));
		double toSeed = distance(mixed.pixels(), seed.pixels()), toVariation = distance(mixed.pixels(), variation.pixels());
		assertTrue(toSeed > 0 && toVariation > 0, "0.3 must differ from both ends");
		// the initial noise at 0.3 is nearer the seed's (the pixels of a tiny model need not be)
		float[] seedNoise = new VariationSeeds(5, 9, 0).initialNoise(0, 1, 4, 8, 8);
		float[] variationNoise = new VariationSeeds(9, 9, 0).initialNoise(0, 1, 4, 8, 8);
		float[] mixedNoise = new VariationSeeds(5, 9, 0.3).initialNoise(0, 1, 4, 8, 8);
		assertTrue(distance(mixedNoise, seedNoise) < distance(mixedNoise, variationNoise));
		assertTrue(mixed.parameters().endsWith(", Seed: 5, Size: 64x64, Model: " + PIPELINE.model().info().name()
			+ ", Variation seed: 9, Variation seed strength: 0.3"), mixed.parameters());
	}

	/** Each image of a varied batch, its parameters read back, makes the same pixels alone (deterministic and not). */
	@ParameterizedTest
	@ValueSource(strings = { "DDIM", "Euler a" })
	void everyImageReplaysFromItsParameters(String sampler) {
		List<GeneratedImage> batch = PIPELINE.generate(request().scheduler(sampler).seed(5).variationSeed(9)
			.variationStrength(0.3).batchSize(2).batchCount(2).build(), null).images();
		assertEquals(4, batch.size());
		for (int i = 0; i < batch.size(); i++) {
			GeneratedImage original = batch.get(i);
			assertTrue(original.parameters().contains("Variation seed: " + (9 + i) + ","), original.parameters());
			GeneratedImage again = one(ParametersReplay.builder(original.parameters()));
			assertEquals(original.parameters(), again.parameters());
			assertTrue(PipelineEndToEndTest.samePixels(original.pixels(), again.pixels()), sampler + " image " + i);
		}
	}

	@Test
	void randomVariationSeedIsDrawnAndWritten() {
		GeneratedImage image = one(request().seed(5).variationStrength(0.5));
		String text = image.parameters();
		assertTrue(text.matches("(?s).*Variation seed: \\d+, Variation seed strength: 0.5"), text);
		assertTrue(PipelineEndToEndTest.samePixels(image.pixels(), one(ParametersReplay.builder(text)).pixels()));
	}

	@Test
	void badValuesAreRefusedBeforeAnyWork() {
		for (double s : new double[] { -0.1, 1.5, Double.NaN }) {
			var e = assertThrows(StableDiffusionException.class, () -> request().variationStrength(s).build().validate());
			assertTrue(e.getMessage().startsWith("Variation strength must be between 0 and 1"), e.getMessage());
		}
		var e = assertThrows(StableDiffusionException.class, () -> request().variationSeed(-2).build().validate());
		assertTrue(e.getMessage().contains("Variation seed -2 is not possible"), e.getMessage());
	}

	@Test
	void slerpEndsAreExactAndParallelNoiseStays() {
		double[] low = VariationSeeds.gaussian(1, 4 * 3 * 5), high = VariationSeeds.gaussian(2, 4 * 3 * 5);
		assertArrayEquals(low, VariationSeeds.slerp(0, low, high, 4, 3, 5));
		assertArrayEquals(high, VariationSeeds.slerp(1, low, high, 4, 3, 5));
		assertArrayEquals(low, VariationSeeds.slerp(0.4, low, low.clone(), 4, 3, 5), 1e-12);
		// the interpolation keeps each column's length where a linear blend would shrink it
		double[] mid = VariationSeeds.slerp(0.5, low, high, 4, 3, 5);
		double nl = 0, nm = 0, nh = 0;
		for (int y = 0; y < 3; y++) {
			int k = y * 5;
			nl += low[k] * low[k];
			nm += mid[k] * mid[k];
			nh += high[k] * high[k];
		}
		assertTrue(nm > Math.min(nl, nh) * 0.99 || nm > 0.5 * (nl + nh) / 2, "slerp keeps the norm: " + nm);
	}

	private static double distance(float[] a, float[] b) {
		double sum = 0;
		for (int i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
		return sum;
	}

	private static double distance(RandomAccessibleInterval<FloatType> a, RandomAccessibleInterval<FloatType> b) {
		var ca = Views.flatIterable(a).cursor();
		var cb = Views.flatIterable(b).cursor();
		double sum = 0;
		while (ca.hasNext()) sum += Math.abs(ca.next().get() - cb.next().get());
		return sum;
	}
}

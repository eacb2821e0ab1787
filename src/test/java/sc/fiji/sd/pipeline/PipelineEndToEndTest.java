package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import net.imglib2.Cursor;
import net.imglib2.RandomAccess;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.model.ModelInfo;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/**
 * The whole pipeline on the embedded model and on every fixture layout (SDXL's too), with few steps and 64×64 images to stay fast
 * (64 is a multiple of every model's size step; fixtures without a UNet config would default to 512).
 */
public class PipelineEndToEndTest {

	static final int SIZE = 64;

	static Stream<String> models() {
		return Stream.concat(TestModels.all(), TestModels.SDXL_FIXTURES.stream());
	}

	private static StableDiffusionPipeline pipeline(String name) {
		return TestModels.pipeline(name);
	}

	/** A smooth RGB test picture, SIZE × SIZE (values in [0, 1]). */
	static Img<FloatType> picture(ModelInfo info, float shift) {
		int s = SIZE;
		Img<FloatType> img = ArrayImgs.floats(s, s, 3);
		Cursor<FloatType> c = img.localizingCursor();
		while (c.hasNext()) {
			c.fwd();
			double x = c.getDoublePosition(0) / s, y = c.getDoublePosition(1) / s;
			int ch = c.getIntPosition(2);
			c.get().set((float) (0.5 + 0.4 * Math.sin(6 * x + 3 * y + ch + shift)));
		}
		return img;
	}

	/** Mask: right half repaint. */
	static Img<FloatType> rightHalf(ModelInfo info) {
		int s = SIZE;
		Img<FloatType> m = ArrayImgs.floats(s, s);
		Cursor<FloatType> c = m.localizingCursor();
		while (c.hasNext()) {
			c.fwd();
			c.get().set(c.getIntPosition(0) >= s / 2 ? 1f : 0f);
		}
		return m;
	}

	static void assertValidImage(RandomAccessibleInterval<FloatType> img, int w, int h) {
		assertEquals(w, img.dimension(0));
		assertEquals(h, img.dimension(1));
		assertEquals(3, img.dimension(2));
		for (FloatType t : net.imglib2.view.Views.flatIterable(img)) {
			float v = t.get();
			assertTrue(Float.isFinite(v) && v >= 0 && v <= 1, "pixel " + v);
		}
	}

	/** The same pixels, bit for bit. */
	public static boolean samePixels(RandomAccessibleInterval<FloatType> a, RandomAccessibleInterval<FloatType> b) {
		var ca = net.imglib2.view.Views.flatIterable(a).cursor();
		var cb = net.imglib2.view.Views.flatIterable(b).cursor();
		while (ca.hasNext()) {
			if (Float.floatToIntBits(ca.next().get()) != Float.floatToIntBits(cb.next().get())) return false;
		}
		return true;
	}

	@ParameterizedTest
	@MethodSource("models")
	void textToImageIsReproducibleAndSeedsDiffer(String model) {
		StableDiffusionPipeline p = pipeline(model);
		ModelInfo info = p.model().info();
		GenerationRequest request = GenerationRequest.builder().prompt("a red circle").negativePrompt("blurry").size(SIZE, SIZE)
			.steps(2).seed(5).batchSize(2).build();
		GenerationResult first = p.generate(request, null);
		assertFalse(first.interrupted());
		assertEquals(2, first.images().size());
		for (GeneratedImage g : first.images()) assertValidImage(g.pixels(), SIZE, SIZE);
		assertEquals(5, first.images().get(0).seed());
		assertEquals(6, first.images().get(1).seed());
		assertTrue(first.images().get(1).parameters().contains("Seed: 6"), first.images().get(1).parameters());

		GenerationResult again = p.generate(request, null);
		assertTrue(samePixels(first.images().get(0).pixels(), again.images().get(0).pixels()), "same seed, same pixels");
		assertTrue(samePixels(first.images().get(1).pixels(), again.images().get(1).pixels()));
		assertFalse(samePixels(first.images().get(0).pixels(), first.images().get(1).pixels()), "seeds 5 and 6 differ");
	}

	@Test
	void batchImageIEqualsASingleRunWithSeedPlusI() {
		StableDiffusionPipeline p = pipeline("embedded");
		var b = GenerationRequest.builder().prompt("a blue square").size(SIZE, SIZE).steps(3).scheduler("Euler").seed(40);
		GenerationResult batch = p.generate(b.batchSize(2).batchCount(2).build(), null);
		assertEquals(4, batch.images().size());
		GenerationResult single = p.generate(b.batchSize(1).batchCount(1).seed(43).build(), null);
		assertTrue(samePixels(batch.images().get(3).pixels(), single.images().get(0).pixels()));
	}

	@Test
	void imageToImageAtStrengthZeroReturnsTheInput() {
		StableDiffusionPipeline p = pipeline("embedded");
		Img<FloatType> input = picture(p.model().info(), 0);
		long calls = p.unetCalls();
		GenerationResult r = p.generate(GenerationRequest.builder().mode(Mode.IMAGE_TO_IMAGE).initImage(input)
			.strength(0).steps(10).seed(1).build(), null);
		assertEquals(calls, p.unetCalls(), "no denoising step at strength 0");
		assertTrue(samePixels(input, r.images().get(0).pixels()), "strength 0 keeps the image (no VAE round trip)");
		assertTrue(r.images().get(0).parameters().endsWith("Denoising strength: 0"), r.images().get(0).parameters());
	}

	@ParameterizedTest
	@MethodSource("models")
	void imageToImageAtStrengthOneIgnoresTheInput(String model) {
		StableDiffusionPipeline p = pipeline(model);
		ModelInfo info = p.model().info();
		var b = GenerationRequest.builder().mode(Mode.IMAGE_TO_IMAGE).prompt("a shape").strength(1).steps(2).seed(3);
		Img<FloatType> one = p.generate(b.initImage(picture(info, 0)).build(), null).images().get(0).pixels();
		Img<FloatType> other = p.generate(b.initImage(picture(info, 2)).build(), null).images().get(0).pixels();
		assertValidImage(one, SIZE, SIZE);
		assertTrue(samePixels(one, other));
	}

	@Test
	void imageToImageRunsTheStrengthsShareOfTheSteps() {
		StableDiffusionPipeline p = pipeline("embedded");
		long calls = p.unetCalls();
		GenerationResult r = p.generate(GenerationRequest.builder().mode(Mode.IMAGE_TO_IMAGE).scheduler("Euler")
			.initImage(picture(p.model().info(), 0)).strength(0.5).steps(6).seed(1).build(), null);
		assertEquals(3, p.unetCalls() - calls, "int(6 × 0.5) steps");
		assertValidImage(r.images().get(0).pixels(), SIZE, SIZE);
	}

	@ParameterizedTest
	@MethodSource("models")
	void inpaintingLeavesUnmaskedPixelsUntouched(String model) {
		StableDiffusionPipeline p = pipeline(model);
		ModelInfo info = p.model().info();
		Img<FloatType> input = picture(info, 1);
		GenerationResult r = p.generate(GenerationRequest.builder().mode(Mode.INPAINT).prompt("a circle")
			.initImage(input).mask(rightHalf(info)).strength(1).steps(2).seed(9).build(), null);
		Img<FloatType> out = r.images().get(0).pixels();
		assertValidImage(out, SIZE, SIZE);
		RandomAccess<FloatType> a = input.randomAccess(), b = out.randomAccess();
		boolean changedInside = false;
		int s = SIZE;
		for (int c = 0; c < 3; c++)
			for (int y = 0; y < s; y++)
				for (int x = 0; x < s; x++) {
					a.setPosition(new int[] { x, y, c });
					b.setPosition(new int[] { x, y, c });
					if (x < s / 2) assertEquals(Float.floatToIntBits(a.get().get()), Float.floatToIntBits(b.get().get()),
						"kept pixel " + x + "," + y);
					else changedInside |= a.get().get() != b.get().get();
				}
		assertTrue(changedInside, "the masked half is repainted");
	}

	@ParameterizedTest
	@MethodSource("models")
	void guidanceAtOrBelowOneRunsOneUnetPassPerStep(String model) {
		StableDiffusionPipeline p = pipeline(model);
		var b = GenerationRequest.builder().prompt("x").size(SIZE, SIZE).steps(3).seed(1).scheduler("Euler");
		long calls = p.unetCalls(), samples = p.unetSamples();
		p.generate(b.guidance(1).build(), null);
		assertEquals(3, p.unetCalls() - calls);
		assertEquals(3, p.unetSamples() - samples, "no unconditional pass");
		calls = p.unetCalls();
		samples = p.unetSamples();
		p.generate(b.guidance(7).build(), null);
		assertEquals(3, p.unetCalls() - calls, "CFG runs both halves in one call");
		boolean lcm = p.model().info().lcm();
		assertEquals(lcm ? 3 : 6, p.unetSamples() - samples, lcm ? "LCM: guidance goes through timestep_cond" : "CFG");
	}

	@Test
	void cancellationReturnsTheLastFinishedStepsImage() {
		StableDiffusionPipeline p = pipeline("embedded");
		ModelInfo info = p.model().info();
		List<StepProgress> seen = new ArrayList<>();
		ProgressListener cancelAfterTwo = new ProgressListener() {
			@Override
			public void stepFinished(StepProgress progress) {
				seen.add(progress);
			}

			@Override
			public boolean isCanceled() {
				return seen.size() >= 2;
			}
		};
		long calls = p.unetCalls();
		GenerationResult r = p.generate(GenerationRequest.builder().prompt("x").size(SIZE, SIZE).steps(6).seed(2).scheduler("Euler")
			.batchCount(3).build(), cancelAfterTwo);
		assertTrue(r.interrupted());
		assertEquals(2, p.unetCalls() - calls);
		assertEquals(1, r.images().size());
		Img<FloatType> image = r.images().get(0).pixels();
		assertValidImage(image, SIZE, SIZE);
		StepProgress last = seen.get(1);
		assertEquals(2, last.step());
		assertEquals(6, last.steps());
		assertTrue(samePixels(p.decodeLatents(last.latents(), 0, SIZE, SIZE), image));
	}

	@Test
	void progressReportsEveryStepWithLatentsAndPrediction() {
		StableDiffusionPipeline p = pipeline("embedded");
		ModelInfo info = p.model().info();
		List<StepProgress> seen = new ArrayList<>();
		p.generate(GenerationRequest.builder().prompt("x").size(SIZE, SIZE).steps(3).seed(2).scheduler("Euler").batchSize(2).build(),
			seen::add);
		assertEquals(3, seen.size());
		int h = SIZE / 8;
		for (int i = 0; i < 3; i++) {
			StepProgress s = seen.get(i);
			assertEquals(i + 1, s.step());
			assertEquals(2 * 4 * h * h, s.latents().length);
			assertNotNull(s.predictedOriginal());
			assertEquals(2, s.latentShape()[0]);
			assertTrue(s.secondsPerStep() > 0);
		}
	}

	@Test
	void randomSeedIsReportedAndReproduces() {
		StableDiffusionPipeline p = pipeline("embedded");
		var b = GenerationRequest.builder().prompt("x").size(SIZE, SIZE).steps(2).scheduler("Euler");
		GeneratedImage random = p.generate(b.seed(GenerationRequest.RANDOM_SEED).build(), null).images().get(0);
		assertTrue(random.seed() >= 0);
		assertTrue(random.parameters().contains("Seed: " + random.seed() + ","), random.parameters());
		GeneratedImage again = p.generate(b.seed(random.seed()).build(), null).images().get(0);
		assertTrue(samePixels(random.pixels(), again.pixels()));
	}

	@Test
	void longAndWeightedPromptsAreEncoded() {
		StableDiffusionPipeline p = pipeline("embedded");
		String longPrompt = "a (red:1.3) circle, " + "a small [blue] square on a big green triangle, ".repeat(12) + "BREAK stars";
		GeneratedImage g = p.generate(GenerationRequest.builder().prompt(longPrompt).size(SIZE, SIZE).negativePrompt("noise")
			.steps(2).seed(1).build(), null).images().get(0);
		assertValidImage(g.pixels(), SIZE, SIZE);
		assertTrue(g.parameters().startsWith(longPrompt + "\nNegative prompt: noise\nSteps: 2"));
	}

	@Test
	void sdTurboStyleConfigRunsOneStepWithoutGuidance(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
		throws Exception
	{
		// SD-Turbo: Euler with trailing spacing, 1 step, guidance 0 (no negative pass)
		java.nio.file.Path folder = dir.resolve("turbo");
		TestModels.copyTree(TestModels.folder("optimum"), folder);
		java.nio.file.Files.writeString(folder.resolve("scheduler/scheduler_config.json"), "{\"_class_name\": "
			+ "\"EulerDiscreteScheduler\", \"beta_start\": 0.00085, \"beta_end\": 0.012, \"beta_schedule\": "
			+ "\"scaled_linear\", \"num_train_timesteps\": 1000, \"steps_offset\": 1, \"prediction_type\": "
			+ "\"epsilon\", \"timestep_spacing\": \"trailing\"}");
		try (var model = sc.fiji.sd.model.StableDiffusionModel.load(folder, "cpu")) {
			StableDiffusionPipeline p = new StableDiffusionPipeline(model);
			List<StepProgress> seen = new ArrayList<>();
			GeneratedImage g = p.generate(GenerationRequest.builder().prompt("a cat").size(SIZE, SIZE).steps(1)
				.guidance(0).seed(1).build(), seen::add).images().get(0);
			assertEquals(1, p.unetCalls());
			assertEquals(1, p.unetSamples());
			assertEquals(1, seen.size());
			assertValidImage(g.pixels(), SIZE, SIZE);
			assertTrue(g.parameters().contains("Steps: 1, Sampler: Euler, CFG scale: 0,"), g.parameters());
		}
	}
}

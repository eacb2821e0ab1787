package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/**
 * NaN and infinity stop a run with a message naming the component, instead of becoming a black image: the embedded
 * model with one component replaced by a tiny graph that returns NaN ({@code src/test/resources/fixtures/nan},
 * written by {@code tools/model/make_nan_fixtures.py}).
 */
class NonFiniteValuesTest {

	@TempDir
	Path dir;

	/** The links go first, so that the temporary folder's clean-up meets only files of its own. */
	@AfterEach
	void removeLinks() throws IOException {
		try (var files = Files.walk(dir)) {
			for (Path p : (Iterable<Path>) files.filter(Files::isSymbolicLink)::iterator) Files.delete(p);
		}
	}

	/** The embedded model with {@code component} swapped for its NaN graph (the other components linked, not copied). */
	private StableDiffusionModel withNan(String component) throws IOException {
		return withFixture("nan", component);
	}

	/** The embedded model with {@code component} swapped for the one in {@code fixtures/<fixture>}. */
	private StableDiffusionModel withFixture(String fixture, String component) throws IOException {
		Path embedded = EmbeddedModel.path(), folder = dir.resolve(fixture + "-" + component);
		Files.createDirectories(folder);
		try (var entries = Files.list(embedded)) {
			for (Path p : (Iterable<Path>) entries::iterator) {
				String name = p.getFileName().toString();
				if (!name.equals(component)) Files.createSymbolicLink(folder.resolve(name), p.toAbsolutePath());
			}
		}
		Files.createDirectories(folder.resolve(component));
		Files.copy(Path.of("src/test/resources/fixtures", fixture, component, "model.onnx"),
			folder.resolve(component).resolve("model.onnx"));
		Path config = embedded.resolve(component).resolve("config.json");
		if (Files.exists(config)) Files.copy(config, folder.resolve(component).resolve("config.json"));
		return StableDiffusionModel.load(folder, "cpu");
	}

	private static GenerationRequest.Builder request() {
		return GenerationRequest.builder().prompt("a red circle").size(64, 64).steps(4).seed(1).scheduler("DDIM");
	}

	@Test
	void nanFromTheVaeDecoderNamesItAndSaysWhatToDo() throws IOException {
		try (StableDiffusionModel model = withNan("vae_decoder")) {
			var e = assertThrows(StableDiffusionException.class,
				() -> new StableDiffusionPipeline(model).generate(request().build(), null));
			assertTrue(e.getMessage().startsWith("The VAE decoder returned NaN"), e.getMessage());
			assertTrue(e.getMessage().contains("fp32 VAE decoder"), e.getMessage());
		}
	}

	/** A tiny decoder (TAESD) that returns NaN is named as such: the fp16-VAE advice does not apply to it. */
	@Test
	void nanFromTheTinyDecoderNamesItAndSaysWhatToDo() throws IOException {
		Path folder = dir.resolve("nan-taesd");
		Files.createDirectories(folder.resolve("taesd_decoder"));
		Files.copy(Path.of("src/test/resources/fixtures/nan/vae_decoder/model.onnx"), folder.resolve("taesd_decoder")
			.resolve("model.onnx"));
		try (StableDiffusionModel model = StableDiffusionModel.load(EmbeddedModel.path(), "cpu");
			sc.fiji.sd.model.TinyDecoder tiny = sc.fiji.sd.model.TinyDecoder.open(folder,
				sc.fiji.sd.onnx.RuntimeOptions.DEFAULTS.withDevice(sc.fiji.sd.onnx.ExecutionProviders.Device.CPU)))
		{
			StableDiffusionPipeline pipeline = new StableDiffusionPipeline(model);
			pipeline.setTinyDecoder(tiny, true);
			var e = assertThrows(StableDiffusionException.class, () -> pipeline.generate(request().build(), null));
			assertTrue(e.getMessage().startsWith("The tiny decoder returned NaN"), e.getMessage());
			assertTrue(e.getMessage().contains(folder.toString()), e.getMessage());
			assertFalse(e.getMessage().contains("fp16"), e.getMessage());
		}
	}

	/**
	 * An fp16 VAE decoder that overflows to NaN (as SDXL's does at 1024×1024; {@code fixtures/fp16-overflow}) decodes
	 * again in fp32: an image instead of an error, and later decodes go to fp32 straight away.
	 */
	@Test
	void anOverflowingFp16VaeDecoderDecodesAgainInFp32() throws IOException {
		try (StableDiffusionModel model = withFixture("fp16-overflow", "vae_decoder")) {
			StableDiffusionPipeline pipeline = new StableDiffusionPipeline(model);
			assertFalse(model.vaeDecoderUpcast());
			Img<FloatType> first = pipeline.generate(request().build(), null).images().get(0).pixels();
			assertTrue(model.vaeDecoderUpcast(), "the fp32 decoder was opened");
			double min = Double.MAX_VALUE, max = -Double.MAX_VALUE;
			for (FloatType v : first) {
				assertTrue(Float.isFinite(v.get()));
				min = Math.min(min, v.get());
				max = Math.max(max, v.get());
			}
			assertTrue(max - min > 0.05, "an image (0.25 × the latents), not a constant: " + min + ".." + max);
			int[] fp16Calls = { 0 };
			model.vaeDecoder().setCallListener((component, in, result, nanos, released) -> fp16Calls[0]++);
			Img<FloatType> second = pipeline.generate(request().build(), null).images().get(0).pixels();
			assertEquals(0, fp16Calls[0], "the second decode went to the fp32 decoder directly");
			var a = first.cursor();
			var b = second.cursor();
			while (a.hasNext()) assertEquals(a.next().get(), b.next().get());
		}
	}

	/** The NaN UNet is finite for timesteps ≥ 500: DDIM's 751 and 501 pass, 251 (step 3) fails. */
	@Test
	void nanFromTheUnetNamesTheStep() throws IOException {
		try (StableDiffusionModel model = withNan("unet")) {
			List<StepProgress> steps = new ArrayList<>();
			var e = assertThrows(StableDiffusionException.class,
				() -> new StableDiffusionPipeline(model).generate(request().build(), steps::add));
			assertTrue(e.getMessage().startsWith("The UNet returned NaN or infinite values at step 3 of 4."),
				e.getMessage());
			assertTrue(e.getMessage().contains("fp32 model"), e.getMessage());
			assertEquals(2, steps.size(), "steps 1 and 2 were finite");
		}
	}

	@Test
	void nanFromTheVaeEncoderNamesIt() throws IOException {
		try (StableDiffusionModel model = withNan("vae_encoder")) {
			Img<FloatType> input = PipelineEndToEndTest.picture(model.info(), 0);
			var e = assertThrows(StableDiffusionException.class, () -> new StableDiffusionPipeline(model)
				.generate(request().mode(Mode.IMAGE_TO_IMAGE).initImage(input).strength(0.5).build(), null));
			assertTrue(e.getMessage().startsWith("The VAE encoder returned NaN"), e.getMessage());
		}
	}

	@Test
	void nanFromTheTextEncoderNamesIt() throws IOException {
		try (StableDiffusionModel model = withNan("text_encoder")) {
			var e = assertThrows(StableDiffusionException.class,
				() -> new StableDiffusionPipeline(model).generate(request().build(), null));
			assertTrue(e.getMessage().startsWith("The text encoder returned NaN"), e.getMessage());
		}
	}

	@Test
	void nanPixelsInTheInputImageAreRefused() {
		StableDiffusionPipeline p = TestModels.pipeline("embedded");
		Img<FloatType> input = PipelineEndToEndTest.picture(p.model().info(), 0);
		input.randomAccess().setPositionAndGet(10, 20, 1).set(Float.NaN);
		var e = assertThrows(StableDiffusionException.class,
			() -> p.generate(request().mode(Mode.IMAGE_TO_IMAGE).initImage(input).strength(0.5).build(), null));
		assertTrue(e.getMessage().startsWith("The input image has NaN"), e.getMessage());
	}
}

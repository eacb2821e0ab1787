package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
		Path embedded = EmbeddedModel.path(), folder = dir.resolve("nan-" + component);
		Files.createDirectories(folder);
		try (var entries = Files.list(embedded)) {
			for (Path p : (Iterable<Path>) entries::iterator) {
				String name = p.getFileName().toString();
				if (!name.equals(component)) Files.createSymbolicLink(folder.resolve(name), p.toAbsolutePath());
			}
		}
		Files.createDirectories(folder.resolve(component));
		Files.copy(Path.of("src/test/resources/fixtures/nan", component, "model.onnx"),
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

package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;
import sc.fiji.sd.provenance.PngWriter;

/**
 * Whole generations against an independent implementation: {@code tools/model/reference_pipeline.py} (diffusers'
 * semantics in numpy, the ONNX graphs run by a numpy interpreter, not ONNX Runtime) wrote the expected images in
 * {@code src/test/resources/conformance} for every fixture layout and the embedded model, DDIM and Euler, text to
 * image, image to image and inpainting. Ours must agree within 2/255 on every pixel. A disagreement is a bug on one
 * side: compare the latents of each step ({@code reference_pipeline.py --trace TRACE}, this test with
 * {@code -Dsd.conformance.dump=DUMP}, then {@code reference_pipeline.py --compare TRACE DUMP}).
 */
class ReferencePipelineConformanceTest {

	/** The expected images; {@code -Dsd.conformance=DIR} points at another reference output (e.g. a regenerated one). */
	static final Path DIR = Path.of(System.getProperty("sd.conformance", "src/test/resources/conformance"));
	static final int TOLERANCE = 2; // of 255

	static JsonObject manifest() {
		try (Reader r = Files.newBufferedReader(DIR.resolve("cases.json"))) {
			return JsonParser.parseReader(r).getAsJsonObject();
		}
		catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}

	static Stream<Arguments> cases() {
		List<Arguments> out = new ArrayList<>();
		for (JsonElement e : manifest().getAsJsonArray("cases")) {
			JsonObject c = e.getAsJsonObject();
			out.add(Arguments.of(c.get("name").getAsString(), c));
		}
		return out.stream();
	}

	/** The reference's java.util.Random port draws the pipeline's initial noise, bit for bit as float. */
	@Test
	void referenceNoiseIsOurs() {
		JsonObject check = manifest().getAsJsonObject("noise_check");
		JsonArray shape = check.getAsJsonArray("shape");
		int perImage = shape.get(0).getAsInt() * shape.get(1).getAsInt() * shape.get(2).getAsInt();
		float[] ours = ImageSource.noise(check.get("seed").getAsLong(), 1, perImage);
		JsonArray first = check.getAsJsonArray("first");
		assertFalse(first.isEmpty());
		for (int i = 0; i < first.size(); i++) assertEquals(first.get(i).getAsFloat(), ours[i], "noise value " + i);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("cases")
	void agreesWithTheReference(String name, JsonObject c) throws IOException {
		GenerationRequest request = request(c);
		StableDiffusionPipeline pipeline = c.has("controls") ? TestModels.controlNetPipeline(c.get("model").getAsString())
			: TestModels.pipeline(c.get("model").getAsString());
		GenerationResult result;
		if (c.has("refiner")) { // SDXL base -> refiner hand-off
			pipeline.setRefiner(TestModels.pipeline(c.get("refiner").getAsString()));
			try {
				result = pipeline.generate(request.toBuilder().refinerSwitch(c.get("refiner_switch").getAsDouble())
					.build(), dumper(name));
			}
			finally {
				pipeline.setRefiner(null);
			}
		}
		else result = pipeline.generate(request, dumper(name));
		JsonArray expected = c.getAsJsonArray("expected");
		assertEquals(expected.size(), result.images().size());
		for (int i = 0; i < expected.size(); i++) {
			BufferedImage want = ImageIO.read(DIR.resolve(expected.get(i).getAsString()).toFile());
			Img<FloatType> got = result.images().get(i).pixels();
			int worst = 0, over = 0, at = -1;
			for (int ch = 0; ch < 3; ch++) {
				for (int y = 0; y < want.getHeight(); y++) {
					for (int x = 0; x < want.getWidth(); x++) {
						int w = (want.getRGB(x, y) >> (16 - 8 * ch)) & 0xff;
						int g = PngWriter.to8bit(got.getAt(x, y, ch).get());
						int d = Math.abs(w - g);
						if (d > TOLERANCE) over++;
						if (d > worst) {
							worst = d;
							at = (ch * want.getHeight() + y) * want.getWidth() + x;
						}
					}
				}
			}
			assertTrue(worst <= TOLERANCE, name + " image " + i + ": " + over + " values differ by more than "
				+ TOLERANCE + "/255, worst " + worst + "/255 at (c, y, x) index " + at);
		}
	}

	/**
	 * With {@code -Dsd.conformance.dump=DIR}: each step's latents as little-endian float32 {@code <case>-step<n>.f32}
	 * (the batch, NCHW), for {@code reference_pipeline.py --compare TRACE DIR}; otherwise no listener.
	 */
	static ProgressListener dumper(String name) {
		String dir = System.getProperty("sd.conformance.dump");
		if (dir == null) return null;
		return new ProgressListener() {
			@Override
			public void stepFinished(StepProgress p) {
				ByteBuffer b = ByteBuffer.allocate(4 * p.latents().length).order(ByteOrder.LITTLE_ENDIAN);
				b.asFloatBuffer().put(p.latents());
				try {
					Files.createDirectories(Path.of(dir));
					Files.write(Path.of(dir, name + "-step" + p.step() + ".f32"), b.array());
				}
				catch (IOException e) {
					throw new UncheckedIOException(e);
				}
			}
		};
	}

	static GenerationRequest request(JsonObject c) throws IOException {
		String mode = c.get("mode").getAsString();
		GenerationRequest.Builder b = GenerationRequest.builder()
			.mode(mode.equals("txt2img") ? Mode.TEXT_TO_IMAGE : mode.equals("img2img") ? Mode.IMAGE_TO_IMAGE : Mode.INPAINT)
			.prompt(c.get("prompt").getAsString()).negativePrompt(c.get("negative_prompt").getAsString())
			.scheduler(c.get("scheduler").getAsString()).steps(c.get("steps").getAsInt())
			.guidance(c.get("guidance").getAsDouble()).seed(c.get("seed").getAsLong())
			.size(c.get("width").getAsInt(), c.get("height").getAsInt()).batchSize(c.get("batch_size").getAsInt())
			.strength(c.get("strength").getAsDouble()).maskFeather(c.get("mask_feather").getAsInt());
		if (!mode.equals("txt2img")) b.initImage(channels(ImageIO.read(DIR.resolve("init.png").toFile()), 3));
		if (mode.equals("inpaint")) b.mask(channels(ImageIO.read(DIR.resolve("mask.png").toFile()), 1));
		if (c.has("controls")) {
			for (JsonElement e : c.getAsJsonArray("controls")) {
				JsonObject u = e.getAsJsonObject();
				b.control(new ControlNetUnit(TestModels.controlNet(u.get("model").getAsString()),
					channels(ImageIO.read(DIR.resolve(u.get("image").getAsString()).toFile()), 3), "none",
					u.get("scale").getAsDouble(), u.get("start").getAsDouble(), u.get("end").getAsDouble()));
			}
		}
		return b.build();
	}

	/** An 8-bit PNG as X × Y × 3 (RGB) or X × Y (its red channel, for a grey mask), values v / 255. */
	static Img<FloatType> channels(BufferedImage png, int channels) {
		int w = png.getWidth(), h = png.getHeight();
		Img<FloatType> img = channels == 1 ? ArrayImgs.floats(w, h) : ArrayImgs.floats(w, h, channels);
		for (int ch = 0; ch < channels; ch++) {
			for (int y = 0; y < h; y++) {
				for (int x = 0; x < w; x++) {
					float v = ((png.getRGB(x, y) >> (16 - 8 * ch)) & 0xff) / 255f;
					if (channels == 1) img.getAt(x, y).set(v);
					else img.getAt(x, y, ch).set(v);
				}
			}
		}
		return img;
	}
}

package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.model.TinyDecoder;

/** The pipeline with a tiny decoder: live previews when a listener asks, final images only on request. */
class TinyDecoderPipelineTest {

	private static final Path SHIPPED = Path.of("models", "tiny-sd-shapes-taesd");

	private static GenerationRequest request() {
		return GenerationRequest.builder().prompt("a red circle on a blue background").steps(4).seed(11).size(64, 64)
			.build();
	}

	/** Records the order of calls: "preview N WxH" and "step N". */
	private static final class Recorder implements ProgressListener {

		final List<String> calls = new ArrayList<>();
		final boolean wants;

		Recorder(boolean wants) {
			this.wants = wants;
		}

		@Override
		public void stepFinished(StepProgress p) {
			calls.add("step " + p.step());
		}

		@Override
		public boolean wantsPreview(StepProgress p) {
			return wants && p.step() % 2 == 0;
		}

		@Override
		public void preview(StepProgress p, Img<FloatType> rgb) {
			calls.add("preview " + p.step() + " " + rgb.dimension(0) + "x" + rgb.dimension(1) + "x" + rgb.dimension(2));
		}
	}

	@Test
	void previewsComeFullSizeBeforeTheStepsTheListenerAsksFor() {
		StableDiffusionModel model = TestModels.model("embedded");
		StableDiffusionPipeline pipeline = new StableDiffusionPipeline(model);
		pipeline.setTinyDecoder(model.tinyDecoder(SHIPPED), false);
		Recorder asks = new Recorder(true);
		pipeline.generate(request(), asks);
		assertEquals(List.of("step 1", "preview 2 64x64x3", "step 2", "step 3", "preview 4 64x64x3", "step 4"),
			asks.calls);
		Recorder doesNot = new Recorder(false);
		pipeline.generate(request(), doesNot);
		assertEquals(List.of("step 1", "step 2", "step 3", "step 4"), doesNot.calls);
	}

	@Test
	void theFinalImagesUseTheTinyDecoderOnlyOnRequest() {
		StableDiffusionModel model = TestModels.model("embedded");
		TinyDecoder tiny = model.tinyDecoder(SHIPPED);
		StableDiffusionPipeline vae = new StableDiffusionPipeline(model);
		StableDiffusionPipeline previewOnly = new StableDiffusionPipeline(model);
		previewOnly.setTinyDecoder(tiny, false);
		StableDiffusionPipeline fast = new StableDiffusionPipeline(model);
		fast.setTinyDecoder(tiny, true);
		List<float[]> last = new ArrayList<>();
		Img<FloatType> byVae = vae.generate(request(), p -> last.add(p.latents())).images().get(0).pixels();
		Img<FloatType> byPreviewOnly = previewOnly.generate(request(), null).images().get(0).pixels();
		Img<FloatType> byTiny = fast.generate(request(), null).images().get(0).pixels();
		assertEquals(0, meanAbsoluteDifference(byVae, byPreviewOnly), "a preview decoder leaves the image alone");
		float[] latents = last.get(last.size() - 1);
		Img<FloatType> expected = sc.fiji.sd.image.ImageTensors.fromNchw(tiny.decode(latents, 0, 8, 8), 0, 64, 64);
		assertEquals(0, meanAbsoluteDifference(expected, byTiny), "the final image is the tiny decoder's");
		assertTrue(meanAbsoluteDifference(byVae, byTiny) > 0, "and not the VAE's");
	}

	private static double meanAbsoluteDifference(Img<FloatType> a, Img<FloatType> b) {
		var ca = a.cursor();
		var cb = b.cursor();
		double sum = 0;
		long n = 0;
		while (ca.hasNext()) {
			sum += Math.abs(ca.next().get() - cb.next().get());
			n++;
		}
		return sum / n;
	}
}

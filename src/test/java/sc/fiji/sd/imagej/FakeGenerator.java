package sc.fiji.sd.imagej;

import java.util.ArrayList;
import java.util.List;

import net.imglib2.img.array.ArrayImgs;
import sc.fiji.sd.pipeline.GeneratedImage;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationResult;
import sc.fiji.sd.pipeline.ProgressListener;
import sc.fiji.sd.pipeline.StepProgress;

/**
 * Stands in for the pipeline in tests of the ImageJ plumbing: remembers each request and returns images of the
 * requested size filled with one grey level per seed (seed % 256 / 255), so tests can tell which seed made what.
 */
class FakeGenerator implements ImageGenerator {

	final List<GenerationRequest> requests = new ArrayList<>();
	int sizeStep = 16;
	/** Stop after this many images, as Esc would (−1: never). */
	int interruptAfter = -1;
	/** Press Esc (as the user would) after this many images (−1: never); the generator then asks the listener. */
	int escapeAfter = -1;

	@Override
	public int nativeSize() {
		return 64;
	}

	@Override
	public int sizeStep() {
		return sizeStep;
	}

	@Override
	public String modelName() {
		return "fake";
	}

	static float grey(long seed) {
		return (seed % 256) / 255f;
	}

	@Override
	public GenerationResult generate(GenerationRequest r, ProgressListener listener) {
		requests.add(r);
		List<GeneratedImage> images = new ArrayList<>();
		int count = r.batchCount() * r.batchSize();
		for (int i = 0; i < count; i++) {
			long seed = r.seed() + i;
			float[] data = new float[r.width() * r.height() * 3];
			java.util.Arrays.fill(data, grey(seed));
			listener.stepFinished(new StepProgress(i, count, r.steps(), r.steps(), 0.01, new float[0], null,
				new long[] { 1, 4, r.height() / 8, r.width() / 8 }));
			images.add(new GeneratedImage(ArrayImgs.floats(data, r.width(), r.height(), 3), seed,
				r.prompt() + "\nSteps: " + r.steps() + ", Seed: " + seed + ", Size: " + r.width() + "x" + r.height()));
			if (interruptAfter >= 0 && images.size() >= interruptAfter)
				return new GenerationResult(images, true, 0.1);
			if (escapeAfter >= 0 && images.size() >= escapeAfter) ij.IJ.setKeyDown(java.awt.event.KeyEvent.VK_ESCAPE);
			if (listener.isCanceled()) return new GenerationResult(images, true, 0.1);
		}
		return new GenerationResult(images, false, 0.1);
	}
}

package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.onnx.Cancellation;
import sc.fiji.sd.onnx.Tensors;

/**
 * Cancelling stops a UNet call while it runs (ONNX Runtime's terminate flag), not only between steps, and the run
 * keeps the last finished step's image. No timing is asserted: the latency is measured by {@link CancelLatency}.
 */
class CancelMidCallTest {

	/** Runs one UNet call of the embedded model at size × size with {@code cancellation}. */
	private static void unetCall(OnnxComponent unet, int size, Cancellation cancellation) throws OrtException {
		int h = size / 8, tokens = 77, width = (int) unet.inputShape("encoder_hidden_states")[2];
		try (OnnxTensor sample = Tensors.create(unet.inputType("sample"), new float[4 * h * h], new long[] { 1, 4, h, h });
			OnnxTensor t = Tensors.create(unet.inputType("timestep"), new float[] { 500 }, new long[] { 1 });
			OnnxTensor text = Tensors.create(unet.inputType("encoder_hidden_states"), new float[tokens * width],
				new long[] { 1, tokens, width });
			Tensors.Reusable out = new Tensors.Reusable(unet.outputType("out_sample"), new long[] { 1, 4, h, h });
			OrtSession.Result r = unet.run(Map.of("sample", sample, "timestep", t, "encoder_hidden_states", text),
				Map.of("out_sample", out.tensor()), false, cancellation))
		{
			// the result is the pinned output
		}
	}

	@Test
	void aCallStartedAfterTheCancelStopsAtOnce() throws OrtException {
		OnnxComponent unet = TestModels.model("embedded").unet();
		Cancellation cancellation = new Cancellation();
		unetCall(unet, 64, cancellation); // runs
		cancellation.cancel();
		var e = assertThrows(Cancellation.CancelledException.class, () -> unetCall(unet, 64, cancellation));
		assertTrue(e.getCause() instanceof OrtException, "ONNX Runtime's own exception, kept as the cause");
		assertEquals(1, cancellation.terminatedCalls());
	}

	/** Calls at 256×256 (hundreds of ms each) run in a loop on another thread until cancel() from this one. */
	@Test
	void cancelFromAnotherThreadTerminatesTheRunningCall() throws Exception {
		OnnxComponent unet = TestModels.model("embedded").unet();
		Cancellation cancellation = new Cancellation();
		CountDownLatch firstCallDone = new CountDownLatch(1);
		ExecutorService worker = Executors.newSingleThreadExecutor();
		try {
			Future<Integer> calls = worker.submit(() -> {
				int n = 0;
				try {
					while (n < 10_000) {
						unetCall(unet, 256, cancellation);
						n++;
						firstCallDone.countDown();
					}
				}
				catch (Cancellation.CancelledException e) {
					return n;
				}
				return -1;
			});
			assertTrue(firstCallDone.await(5, TimeUnit.MINUTES));
			cancellation.cancel(); // lands in a call in flight (or the next one's start): either ends in its terminate
			int finished = calls.get(5, TimeUnit.MINUTES);
			assertTrue(finished >= 1, "the loop ended by the cancel, after " + finished + " finished calls");
			assertEquals(1, cancellation.terminatedCalls(), "exactly one call was terminated");
		}
		finally {
			worker.shutdownNow();
		}
	}

	/**
	 * The listener says "cancelled" only to the watcher thread, never to the generating thread's between-step check:
	 * the run can then only stop through the terminate flag, and it returns the image of the last finished step.
	 */
	@Test
	void theWatcherStopsTheRunAndTheLastFinishedStepIsKept() {
		StableDiffusionPipeline p = TestModels.pipeline("embedded");
		Thread generating = Thread.currentThread();
		StepProgress[] last = { null };
		ProgressListener listener = new ProgressListener() {
			volatile boolean stepped;

			@Override
			public void stepFinished(StepProgress progress) {
				last[0] = progress;
				stepped = true;
			}

			@Override
			public boolean isCanceled() {
				return stepped && Thread.currentThread() != generating;
			}
		};
		int steps = 1000;
		GenerationResult r = p.generate(GenerationRequest.builder().prompt("a red circle").size(64, 64).steps(steps)
			.seed(4).scheduler("Euler").build(), listener);
		assertTrue(r.interrupted());
		assertNotNull(last[0]);
		assertTrue(last[0].step() < steps);
		assertEquals(1, r.images().size());
		assertTrue(PipelineEndToEndTest.samePixels(p.decodeLatents(last[0].latents(), 0, 64, 64),
			r.images().get(0).pixels()), "the image of the last finished step");
	}
}

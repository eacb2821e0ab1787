package sc.fiji.sd.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.pipeline.TestModels;

/** The provider is keyed by everything that changes the sessions: folder and runtime options (threads included). */
class ModelProviderTest {

	@Test
	void otherRuntimeOptionsReloadTheSameOnesReuse() {
		ModelProvider cache = new ModelProvider();
		RuntimeOptions cpu = RuntimeOptions.DEFAULTS.withDevice(Device.CPU);
		try {
			StableDiffusionModel a = cache.get(TestModels.folder("embedded"), cpu);
			assertSame(a, cache.get(TestModels.folder("embedded"), RuntimeOptions.DEFAULTS.withDevice(Device.CPU)));
			assertEquals(cpu, a.runtimeOptions());
			StableDiffusionModel oneThread = cache.get(TestModels.folder("embedded"), cpu.withThreads(1));
			assertNotSame(a, oneThread, "a thread count of the Fiji settings applies without a manual release");
			assertEquals(1, oneThread.runtimeOptions().threads());
		}
		finally {
			cache.release();
		}
	}

	@Test
	void theKeyIsTheAbsoluteNormalisedFolderAndTheOptions() {
		RuntimeOptions cpu = RuntimeOptions.DEFAULTS.withDevice(Device.CPU);
		Path folder = TestModels.folder("embedded");
		assertEquals(new ModelProvider.Key(folder.toAbsolutePath(), cpu), new ModelProvider.Key(folder.resolve(
			"../" + folder.getFileName()), cpu));
		assertNotSame(new ModelProvider.Key(folder, cpu), new ModelProvider.Key(folder, cpu.withThreads(2)));
		assertEquals(false, new ModelProvider.Key(folder, cpu).equals(new ModelProvider.Key(folder, cpu.withThreads(2))));
	}

	@Test
	void closingFreesTheModelAndRefusesNewOnes() {
		ModelProvider provider = new ModelProvider();
		RuntimeOptions cpu = RuntimeOptions.DEFAULTS.withDevice(Device.CPU);
		StableDiffusionModel m = provider.get(TestModels.folder("embedded"), cpu);
		provider.close();
		assertNull(provider.current());
		assertThrows(IllegalStateException.class, () -> m.unet().session().getInputInfo(), "the sessions are closed");
		assertThrows(IllegalStateException.class, () -> provider.get(TestModels.folder("embedded"), cpu));
	}

	@Test
	void theRefinerIsHeldBesideTheModelAndReleasedWithIt() {
		ModelProvider provider = new ModelProvider();
		RuntimeOptions cpu = RuntimeOptions.DEFAULTS.withDevice(Device.CPU);
		ModelProvider.Key refinerKey = new ModelProvider.Key(TestModels.folder("sdxl-refiner"), cpu);
		try {
			StableDiffusionModel base = provider.get(TestModels.folder("sdxl-base"), cpu);
			StableDiffusionModel refiner = provider.refiner(refinerKey);
			assertSame(base, provider.get(TestModels.folder("sdxl-base"), cpu), "the refiner did not replace the model");
			assertSame(refiner, provider.refiner(refinerKey));
			provider.get(TestModels.folder("embedded"), cpu); // another model: the refiner stays
			assertSame(refiner, provider.refiner(refinerKey));
			provider.releaseRefiner();
			assertThrows(IllegalStateException.class, () -> refiner.unet().session().getInputInfo(), "closed");
			StableDiffusionModel again = provider.refiner(refinerKey);
			provider.release();
			assertNull(provider.current());
			assertThrows(IllegalStateException.class, () -> again.unet().session().getInputInfo(), "released with it");
		}
		finally {
			provider.close();
		}
	}

	/** A release asked for during a generation (another thread) waits until the generation is finished. */
	@Test
	void aReleaseWaitsForTheGenerationThatUsesTheModel() throws Exception {
		try (ModelProvider provider = new ModelProvider()) {
			RuntimeOptions cpu = RuntimeOptions.DEFAULTS.withDevice(Device.CPU);
			CountDownLatch generating = new CountDownLatch(1), finish = new CountDownLatch(1);
			StableDiffusionModel[] used = new StableDiffusionModel[1];
			boolean[] stillOpen = new boolean[1];
			Thread generation = new Thread(() -> provider.exclusively(() -> {
				used[0] = provider.get(TestModels.folder("embedded"), cpu);
				generating.countDown();
				try {
					finish.await();
				}
				catch (InterruptedException e) {
					Thread.currentThread().interrupt();
				}
				stillOpen[0] = open(used[0]); // false if released under it
				return null;
			}));
			generation.start();
			generating.await();
			Thread release = new Thread(provider::release);
			release.start();
			while (release.getState() != Thread.State.WAITING && release.isAlive())
				Thread.onSpinWait();
			assertEquals(Thread.State.WAITING, release.getState(), "the release waits for the lock");
			finish.countDown();
			generation.join();
			release.join();
			assertEquals(true, stillOpen[0], "the model stayed open until the generation finished");
			assertNull(provider.current());
			assertEquals(false, open(used[0]), "released after it");
		}
	}

	private static boolean open(StableDiffusionModel m) {
		try {
			m.unet().session().getInputInfo();
			return true;
		}
		catch (IllegalStateException | ai.onnxruntime.OrtException e) {
			return false;
		}
	}
}

package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.scijava.Context;

import sc.fiji.sd.ij1.SmallModel;
import sc.fiji.sd.imagej.Settings;

/** The service keeps one loaded model for the application and frees it when it is no longer wanted. */
class StableDiffusionServiceTest {

	@AfterEach
	void restoreSettings() {
		Settings.defaults().save();
	}

	@Test
	void aSecondRunReusesTheModelAndDisposingTheContextFreesIt() {
		Context context = new Context();
		StableDiffusionService sd = context.service(StableDiffusionService.class);
		sd.apply(new Settings(SmallModel.folder().toString(), "cpu", 0));
		sd.generator();
		var loaded = sd.models().current();
		assertNotNull(loaded);
		sd.generator();
		assertSame(loaded, sd.models().current(), "the second run must not reload");
		context.dispose();
		assertNull(sd.models().current(), "disposing Fiji's context releases the model");
	}

	@Test
	void changingTheDeviceOrThreadsReleasesTheOldModel() {
		Context context = new Context();
		try {
			StableDiffusionService sd = context.service(StableDiffusionService.class);
			sd.apply(new Settings(SmallModel.folder().toString(), "cpu", 0));
			sd.generator();
			assertNotNull(sd.models().current());
			sd.apply(new Settings(SmallModel.folder().toString(), "cpu", 1));
			assertNull(sd.models().current(), "new settings free the old sessions at once");
			sd.generator();
			assertNotNull(sd.models().current());
		}
		finally {
			context.dispose();
		}
	}
}
